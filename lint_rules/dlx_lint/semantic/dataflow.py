"""Intra-function dataflow: reaching definitions, graph-value taint, which operation produced
a value (softmax, log_softmax, sigmoid), provable positivity, and what a value flows into.

Reaching definitions are approximated by source order: a use sees the last binding of the
name before its statement in the same function; a use with no earlier binding (the loop
back edge) sees every later one.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import libcst as cst

from .kinds import Kind, returns_of
from .names import dotted_name
from .training import backwarded_expression, is_backward, callee_summary

if TYPE_CHECKING:
    from .model import SemanticModel
    from .scopes import Binding, Scope

_VALUE_BINDINGS = ("assign", "annassign", "walrus", "augassign", "for", "with", "param")

# --------------------------------------------------------------------------- reaching definitions


def function_owner(model: "SemanticModel", node: cst.CSTNode) -> cst.CSTNode:
    """The FunctionDef (or Module) whose body holds `node`."""
    return model.enclosing_function(node) or model.module


def reaching_bindings(model: "SemanticModel", path: str, use: cst.CSTNode) -> list["Binding"]:
    """Bindings of `path` that may reach `use` (same function; see module docstring)."""
    scope = model.scope_for(use)
    bindings = [b for b in model.bindings_of(path, scope) if b.kind in _VALUE_BINDINGS]
    if not bindings:
        return []
    owner_scope = _function_scope(model, scope)
    local = [b for b in bindings if _function_scope(model, model.scope_for(b.node)) is owner_scope]
    if not local:
        return bindings  # bound in an enclosing scope or on `self` in another method
    use_order = model.order_of(use)
    before = [b for b in local if model.order_of(b.node) < use_order or b.kind == "param"]
    if before:
        last = max(before, key=lambda b: (model.order_of(b.node), b.kind != "param"))
        return [last]
    return local


def _function_scope(model: "SemanticModel", scope: "Scope") -> "Scope":
    current = scope
    while current.kind in ("lambda",) and current.parent is not None:
        current = current.parent
    return current


def _binding_value(binding: "Binding") -> cst.BaseExpression | None:
    value = binding.value
    if value is None or binding.kind in ("param", "for", "with"):
        return None
    if binding.unpack:
        # `a, b = (x, y)` gives the element; `a, b = f()` has no expression for one element.
        if isinstance(value, (cst.Tuple, cst.List)):
            index = binding.unpack[0]
            elements = value.elements
            if 0 <= index < len(elements) and not isinstance(elements[index], cst.StarredElement):
                return elements[index].value
        return None
    return value


# --------------------------------------------------------------------------- graph-value taint

_LOSS_FUNCTION = re.compile(
    r"^torch\.nn\.functional\.(?:\w*_loss|cross_entropy|binary_cross_entropy(?:_with_logits)?|kl_div|nll_loss"
    r"|triplet_margin\w*|cosine_embedding_loss|ctc_loss)$"
)
_TAINT_CLEARING_METHODS = frozenset({"item", "tolist", "detach", "numpy", "detach_", "__float__", "__int__"})
_TAINT_CLEARING_FUNCTIONS = frozenset({"float", "int", "bool", "len", "str", "round", "isinstance"})
_TAINT_PASSING_BUILTINS = frozenset({"sum", "max", "min", "abs"})
_NOT_DIFFERENTIABLE = re.compile(r"^torch\.(?:isnan|isinf|isfinite|argmax|argmin|eq|ne|no_grad|numel|is_tensor|cuda\.\w+|distributed\.\w+)$")


def is_graph_value(model: "SemanticModel", expr: cst.BaseExpression) -> bool:
    """Whether `expr` (may) carry an autograd graph: a loss function's or criterion's result, a
    model's output, anything `.backward()` is called on, and expressions derived from those.
    ``.item()``, ``.detach()``, ``.tolist()``, ``.numpy()``, ``float()`` clear it."""
    return model.memo(("graph", expr), lambda: _graph(model, expr), while_computing=False)


def _graph(model: "SemanticModel", expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Name) and func.value in _TAINT_CLEARING_FUNCTIONS:
            return False
        if isinstance(func, cst.Name) and func.value in _TAINT_PASSING_BUILTINS:
            return any(is_graph_value(model, a.value) for a in expr.args)
        if isinstance(func, cst.Attribute) and func.attr.value in _TAINT_CLEARING_METHODS:
            return False
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name is not None:
            if _LOSS_FUNCTION.match(name):
                return True
            if _NOT_DIFFERENTIABLE.match(name):
                return False
            if name.startswith("torch."):
                return any(is_graph_value(model, a.value) for a in expr.args)
        origin = model.origin(func)
        if origin.kind is Kind.LOSS:
            return True
        if origin.kind is Kind.MODULE and not origin.guessed:
            return True
        if isinstance(func, cst.Attribute):
            if is_graph_value(model, func.value):
                return True
        found = callee_summary(model, expr, model.scope_for(expr))
        if found is not None:
            callee = found[0].callee
            return any(r.value is not None and is_graph_value(model, r.value) for r in returns_of(model, callee))
        return False
    if isinstance(expr, (cst.Name, cst.Attribute)):
        path = dotted_name(expr)
        if path is not None:
            if _is_backwarded_path(model, path, expr):
                return True
            bindings = reaching_bindings(model, path, expr)
            for binding in bindings:
                value = _binding_value(binding)
                if binding.unpack and value is None and binding.value is not None and binding.kind != "for":
                    value = binding.value  # an element of a tuple-valued result
                if value is not None and is_graph_value(model, value):
                    return True
            if bindings:
                return False
        if isinstance(expr, cst.Attribute):
            return is_graph_value(model, expr.value)
        return False
    if isinstance(expr, cst.BinaryOperation):
        return is_graph_value(model, expr.left) or is_graph_value(model, expr.right)
    if isinstance(expr, cst.UnaryOperation):
        return not isinstance(expr.operator, cst.Not) and is_graph_value(model, expr.expression)
    if isinstance(expr, cst.Subscript):
        return is_graph_value(model, expr.value)
    if isinstance(expr, cst.IfExp):
        return is_graph_value(model, expr.body) or is_graph_value(model, expr.orelse)
    if isinstance(expr, (cst.List, cst.Tuple)):
        return any(is_graph_value(model, e.value) for e in expr.elements)
    return False


def _is_backwarded_path(model: "SemanticModel", path: str, use: cst.CSTNode) -> bool:
    owner = function_owner(model, use)
    return path in backwarded_paths(model, owner)


def backwarded_paths(model: "SemanticModel", owner: cst.CSTNode) -> frozenset[str]:
    """Access paths that are the receiver (or argument) of a backward call in a function."""
    def compute() -> frozenset[str]:
        from .training import calls_in

        paths = set()
        for call in calls_in(model, owner):
            if is_backward(model, call):
                target = backwarded_expression(model, call)
                if target is not None:
                    path = dotted_name(target)
                    if path is not None:
                        paths.add(path)
        return frozenset(paths)

    return model.cached(("backwarded-paths", owner), compute)


# --------------------------------------------------------------------------- dependencies


def dependencies(model: "SemanticModel", expr: cst.BaseExpression, *, through_conversions: bool = False) -> set[str]:
    """Access paths whose graph-carrying value `expr` is computed from (not through
    ``.item()``, ``.detach()``, ``float()``...; through them too when `through_conversions`)."""
    found: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Name, cst.Attribute)):
            path = dotted_name(node)
            if path is not None:
                found.add(path)
                if isinstance(node, cst.Attribute):
                    found.add(path.split(".", 1)[0])
                continue
        if isinstance(node, cst.Call) and not through_conversions:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _TAINT_CLEARING_METHODS:
                continue
            if isinstance(func, cst.Name) and func.value in _TAINT_CLEARING_FUNCTIONS:
                continue
        if isinstance(node, (cst.Lambda, cst.FunctionDef)):
            continue
        from .walk import iter_children

        stack.extend(iter_children(node))
    return found


def flow_closure(model: "SemanticModel", owner: cst.CSTNode, roots: list[cst.BaseExpression]) -> set[str]:
    """Every access path that (transitively, through assignments in `owner`) flows into one of
    the `roots` expressions. Flow-insensitive: any binding of a path in the function counts."""
    scope = model.scopes.get(owner) or model.root_scope
    result: set[str] = set()
    pending: list[str] = []
    for root in roots:
        pending.extend(dependencies(model, root))
    while pending:
        path = pending.pop()
        if path in result:
            continue
        result.add(path)
        for binding in scope.bindings.get(path, ()):
            if binding.value is not None and binding.kind in ("assign", "annassign", "augassign", "walrus"):
                pending.extend(dependencies(model, binding.value))
    return result


def container_feeds(model: "SemanticModel", owner: cst.CSTNode) -> dict[str, set[str]]:
    """Container path -> paths of the values appended or stored into it in `owner`."""
    def compute() -> dict[str, set[str]]:
        from .training import calls_in

        feeds: dict[str, set[str]] = {}
        for call in calls_in(model, owner):
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("append", "extend", "insert", "add"):
                container = dotted_name(func.value)
                if container is not None:
                    for arg in call.args:
                        feeds.setdefault(container, set()).update(dependencies(model, arg.value))
        return feeds

    return model.cached(("container-feeds", owner), compute)


def flows_into(model: "SemanticModel", owner: cst.CSTNode, path: str, roots: list[cst.BaseExpression]) -> bool:
    """Whether the value held in `path` flows into any of `roots` within `owner`, also through
    containers it is appended to."""
    closure = flow_closure(model, owner, roots)
    if path in closure:
        return True
    feeds = container_feeds(model, owner)
    frontier = [c for c in closure if c in feeds]
    seen = set()
    while frontier:
        container = frontier.pop()
        if container in seen:
            continue
        seen.add(container)
        for fed in feeds[container]:
            if fed == path:
                return True
            if fed in feeds:
                frontier.append(fed)
    return False


def backward_roots(model: "SemanticModel", owner: cst.CSTNode) -> list[cst.BaseExpression]:
    """Expressions differentiated by backward calls in `owner`, and arguments passed to
    same-file helpers that call backward."""
    def compute() -> list[cst.BaseExpression]:
        from .training import calls_in

        roots = []
        for call in calls_in(model, owner):
            if is_backward(model, call):
                target = backwarded_expression(model, call)
                if target is not None:
                    roots.append(target)
                continue
            found = callee_summary(model, call, model.scope_for(call))
            if found is not None and found[1].backward:
                roots.extend(arg.value for arg in call.args)
        return roots

    return model.cached(("backward-roots", owner), compute)


def escape_roots(model: "SemanticModel", owner: cst.CSTNode) -> list[cst.BaseExpression]:
    """Values that leave the function: returned, yielded, or stored on an attribute (clause 20)."""
    def compute() -> list[cst.BaseExpression]:
        from .walk import walk_postorder

        roots: list[cst.BaseExpression] = []
        if isinstance(owner, cst.FunctionDef):
            for node in walk_postorder(owner.body, stop=(cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                if isinstance(node, (cst.Return, cst.Yield)) and node.value is not None:
                    value = node.value
                    if isinstance(value, cst.From):
                        value = value.item
                    roots.append(value)
                elif isinstance(node, cst.Assign):
                    if any(isinstance(t.target, (cst.Attribute, cst.Subscript)) for t in node.targets):
                        roots.append(node.value)
                elif isinstance(node, cst.AugAssign) and isinstance(node.target, (cst.Attribute, cst.Subscript)):
                    roots.append(node.value)
        return roots

    return model.cached(("escape-roots", owner), compute)


# --------------------------------------------------------------------------- producers

SOFTMAX = "softmax"
LOG_SOFTMAX = "log_softmax"
SIGMOID = "sigmoid"

_PRODUCER_FUNCTIONS = {
    "torch.softmax": SOFTMAX,
    "torch.nn.functional.softmax": SOFTMAX,
    "torch.special.softmax": SOFTMAX,
    "torch.log_softmax": LOG_SOFTMAX,
    "torch.nn.functional.log_softmax": LOG_SOFTMAX,
    "torch.special.log_softmax": LOG_SOFTMAX,
    "torch.sigmoid": SIGMOID,
    "torch.nn.functional.sigmoid": SIGMOID,
    "torch.special.expit": SIGMOID,
}
_PRODUCER_MODULES = {"torch.nn.Softmax": SOFTMAX, "torch.nn.LogSoftmax": LOG_SOFTMAX, "torch.nn.Sigmoid": SIGMOID}
_PRODUCER_METHODS = {"softmax": SOFTMAX, "log_softmax": LOG_SOFTMAX, "sigmoid": SIGMOID, "sigmoid_": SIGMOID}
_SHAPE_METHODS = frozenset(
    {"view", "reshape", "squeeze", "unsqueeze", "flatten", "permute", "transpose", "contiguous", "float",
     "double", "half", "to", "cuda", "cpu", "clone", "view_as", "reshape_as", "expand", "expand_as", "t", "type_as"}
)


def producer(model: "SemanticModel", expr: cst.BaseExpression) -> tuple[str, cst.CSTNode] | None:
    """(kind, producing node) when `expr` is (through shape-only operations and assignments)
    the result of softmax, log_softmax or sigmoid, including a same-file model whose
    ``forward`` always returns one (clause 11)."""
    return model.memo(("producer", expr), lambda: _producer(model, expr))


def _producer(model: "SemanticModel", expr: cst.BaseExpression):
    if isinstance(expr, cst.Call):
        func = expr.func
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name in _PRODUCER_FUNCTIONS:
            return _PRODUCER_FUNCTIONS[name], expr
        if isinstance(func, cst.Attribute) and name is None:
            method = func.attr.value
            if method in _PRODUCER_METHODS and not _is_module_path(model, func.value):
                return _PRODUCER_METHODS[method], expr
            if method in _SHAPE_METHODS:
                return producer(model, func.value)
        origin = model.origin(func)
        if origin.kind is Kind.MODULE:
            if origin.qualname in _PRODUCER_MODULES:
                return _PRODUCER_MODULES[origin.qualname], expr
            kind = _module_output_kind(model, func)
            if kind is not None:
                return kind, expr
        return None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        path = dotted_name(expr)
        if path is not None:
            bindings = reaching_bindings(model, path, expr)
            kinds = set()
            node = None
            for binding in bindings:
                value = _binding_value(binding)
                if value is None and binding.unpack and isinstance(binding.value, cst.Call):
                    found = _unpacked_model_output(model, binding.value, binding.unpack[0])
                elif value is None:
                    return None
                else:
                    found = producer(model, value)
                if found is None:
                    return None
                kinds.add(found[0])
                node = found[1]
            if len(kinds) == 1 and node is not None:
                return kinds.pop(), node
        return None
    if isinstance(expr, cst.Subscript):
        return producer(model, expr.value)
    return None


def _unpacked_model_output(model: "SemanticModel", call: cst.Call, index: int):
    """Producer of element `index` of a same-file model's tuple output (``a, b = model(x)``),
    when every ``return`` of its ``forward`` is a tuple whose element there is a producer."""
    if index < 0 or not isinstance(call.func, (cst.Name, cst.Attribute)):
        return None
    origin = model.origin(call.func)
    if origin.cls is None or origin.guessed or origin.kind is not Kind.MODULE:
        return None
    forward = origin.cls.method("forward")
    if forward is None:
        return None
    kinds = set()
    for ret in returns_of(model, forward):
        value = ret.value
        if not isinstance(value, cst.Tuple) or index >= len(value.elements):
            return None
        found = producer(model, value.elements[index].value)
        if found is None:
            return None
        kinds.add(found[0])
    return (kinds.pop(), call) if len(kinds) == 1 else None


_SCORE_LAYERS = re.compile(r"^torch\.nn\.(?:Linear|LazyLinear|Bilinear|Conv[123]d|LazyConv[123]d|ConvTranspose[123]d)$")


def raw_scores(model: "SemanticModel", expr: cst.BaseExpression, _depth: int = 0) -> cst.CSTNode | None:
    """The call producing `expr` when it is surely unnormalised scores: the output of an
    ``nn.Linear``/``nn.Conv*`` module (through shape-only operations and assignments), or of a
    same-file model whose every ``forward`` return is such a call."""
    if _depth > 6:
        return None
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _SHAPE_METHODS and model.qualname(func) is None \
                and not model.origin(func.value).is_module:
            return raw_scores(model, func.value, _depth + 1)
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        origin = model.origin(func)
        if origin.kind is not Kind.MODULE or origin.guessed:
            return None
        if origin.qualname and _SCORE_LAYERS.match(origin.qualname):
            return expr
        if origin.cls is not None:
            forward = origin.cls.method("forward")
            returns = returns_of(model, forward) if forward is not None else []
            if returns and all(r.value is not None and raw_scores(model, r.value, _depth + 1) is not None for r in returns):
                return expr
        return None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        path = dotted_name(expr)
        if path is None:
            return None
        bindings = reaching_bindings(model, path, expr)
        found = None
        for binding in bindings:
            value = _binding_value(binding)
            if value is None:
                return None
            found = raw_scores(model, value, _depth + 1)
            if found is None:
                return None
        return found
    if isinstance(expr, cst.Subscript):
        return raw_scores(model, expr.value, _depth + 1)
    return None


def _is_module_path(model: "SemanticModel", expr: cst.BaseExpression) -> bool:
    return model.origin(expr).is_module


def _module_output_kind(model: "SemanticModel", func: cst.BaseExpression) -> str | None:
    """What a module call returns when the module's definition says so: a same-file class
    whose every ``return`` in ``forward`` is a producer, or an ``nn.Sequential`` whose last
    element is Softmax/LogSoftmax/Sigmoid (through nested Sequentials)."""
    origin = model.origin(func)
    if origin.cls is not None and not origin.guessed:
        forward = origin.cls.method("forward")
        if forward is None:
            return None
        kinds = set()
        for ret in returns_of(model, forward):
            if ret.value is None:
                return None
            found = producer(model, ret.value)
            if found is None:
                return None
            kinds.add(found[0])
        return kinds.pop() if len(kinds) == 1 else None
    if origin.qualname == "torch.nn.Sequential":
        path = dotted_name(func)
        if path is None:
            return None
        for binding in model.bindings_of(path, model.scope_for(func)):
            value = _binding_value(binding)
            if isinstance(value, cst.Call):
                return _sequential_last(model, value)
    return None


def _sequential_last(model: "SemanticModel", call: cst.Call) -> str | None:
    if model.qualname(call.func) != "torch.nn.Sequential" or not call.args:
        return None
    last = call.args[-1].value
    if isinstance(last, cst.Call):
        name = model.qualname(last.func) if isinstance(last.func, (cst.Name, cst.Attribute)) else None
        if name in _PRODUCER_MODULES:
            return _PRODUCER_MODULES[name]
        if name == "torch.nn.Sequential":
            return _sequential_last(model, last)
    return None


# --------------------------------------------------------------------------- constants and positivity

_SMALL_POSITIVE = 1e-7  # stands for torch.finfo(dtype).eps / .tiny (clause 21)
_KNOWN_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "math.tau": math.tau, "numpy.pi": math.pi, "numpy.e": math.e}


def constant_value(model: "SemanticModel", expr: cst.BaseExpression, _depth: int = 0) -> float | None:
    """Fold a numeric constant expression (literals, arithmetic, names bound once to a
    constant, ``torch.finfo(...).eps``), else None."""
    if _depth > 8:
        return None
    if isinstance(expr, cst.Integer):
        return float(int(expr.value.replace("_", ""), 0))
    if isinstance(expr, cst.Float):
        return float(expr.value.replace("_", ""))
    if isinstance(expr, cst.UnaryOperation):
        inner = constant_value(model, expr.expression, _depth + 1)
        if inner is None:
            return None
        if isinstance(expr.operator, cst.Minus):
            return -inner
        if isinstance(expr.operator, cst.Plus):
            return inner
        return None
    if isinstance(expr, cst.BinaryOperation):
        left = constant_value(model, expr.left, _depth + 1)
        right = constant_value(model, expr.right, _depth + 1)
        if left is None or right is None:
            return None
        operator = expr.operator
        try:
            if isinstance(operator, cst.Add):
                return left + right
            if isinstance(operator, cst.Subtract):
                return left - right
            if isinstance(operator, cst.Multiply):
                return left * right
            if isinstance(operator, cst.Divide):
                return left / right
            if isinstance(operator, cst.Power):
                return float(left**right)
        except (ZeroDivisionError, OverflowError, TypeError):
            return None
        return None
    if isinstance(expr, cst.Attribute) and expr.attr.value in ("eps", "tiny") and isinstance(expr.value, cst.Call):
        name = model.qualname(expr.value.func) if isinstance(expr.value.func, (cst.Name, cst.Attribute)) else None
        if name in ("torch.finfo", "numpy.finfo"):
            return _SMALL_POSITIVE
        return None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        name = model.qualname(expr)
        if name in _KNOWN_CONSTANTS:
            return _KNOWN_CONSTANTS[name]
        path = dotted_name(expr)
        if path is None:
            return None
        bindings = [b for b in model.bindings_of(path, model.scope_for(expr)) if b.kind != "import"]
        values = []
        for binding in bindings:
            if binding.kind == "param":
                # `eps=1e-6`: the default stands for the parameter (a caller passing 0 is not
                # seen); a parameter without a default is unknown.
                if binding.value is None or len(bindings) > 1:
                    return None
                return constant_value(model, binding.value, _depth + 1)
            value = _binding_value(binding)
            if value is None:
                return None
            folded = constant_value(model, value, _depth + 1)
            if folded is None:
                return None
            values.append(folded)
        if values and len(set(values)) == 1:
            return values[0]
        return None
    return None


_POSITIVE_FUNCTIONS = frozenset({"torch.exp", "torch.nn.functional.softplus", "math.exp", "numpy.exp", "torch.special.exp2", "torch.exp2"})
_POSITIVE_METHODS = frozenset({"exp", "exp_", "exponential_"})
# Reductions that keep positivity (a sum or mean of positive values is positive).
_POSITIVE_PRESERVING = frozenset({"torch.sum", "torch.mean", "torch.prod", "torch.amax", "torch.amin"})
_POSITIVE_PRESERVING_METHODS = frozenset({"sum", "mean", "prod", "amax", "amin", "float", "double", "to", "half",
                                          "contiguous", "view", "reshape", "squeeze", "unsqueeze", "flatten",
                                          "expand", "repeat", "clone", "detach", "sqrt", "permute", "transpose"})
# Tensors built from Python values: no autograd history, and their value is configuration.
_CONSTANT_TENSORS = frozenset({"torch.tensor", "torch.as_tensor", "torch.full", "torch.full_like", "torch.linspace",
                               "torch.logspace", "torch.Tensor", "torch.FloatTensor"})

_CLAMPS = frozenset({"torch.clamp", "torch.clip", "torch.clamp_min"})
_MASK_BUILDERS = frozenset({"torch.tril", "torch.triu", "torch.ones", "torch.eye", "torch.ones_like"})
_COMPARISONS = (cst.LessThan, cst.GreaterThan, cst.LessThanEqual, cst.GreaterThanEqual, cst.Equal, cst.NotEqual)


def provably_positive(model: "SemanticModel", expr: cst.BaseExpression, _depth: int = 0) -> bool:
    """Clause 12 (and 21): whether `expr` is surely > 0 in float32."""
    if _depth > 8:
        return False
    value = constant_value(model, expr)
    if value is not None:
        return value > 0
    if isinstance(expr, cst.Call):
        func = expr.func
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name in _POSITIVE_FUNCTIONS or name in ("torch.ones", "torch.ones_like"):
            return True
        if name in ("torch.expm1", "torch.special.expm1") and expr.args:
            return provably_positive(model, expr.args[0].value, _depth + 1)
        if name in _CONSTANT_TENSORS and expr.args:
            index = 1 if name in ("torch.full", "torch.full_like") and len(expr.args) > 1 else 0
            # Literals decide; a value from configuration is the user's responsibility.
            return _literal_data_positive(model, expr.args[index].value)
        if name == "torch.arange":
            return _arange_positive(model, expr)
        if name in _POSITIVE_PRESERVING and expr.args:
            return provably_positive(model, expr.args[0].value, _depth + 1)
        last = func.attr.value if isinstance(func, cst.Attribute) else (name or "").rsplit(".", 1)[-1]
        if last == "uniform_":
            # `init.uniform_(t, a=1.0, b=16.0)` (any init module) or `t.uniform_(1, 16)`
            offset = 0 if isinstance(func, cst.Attribute) and name is None else 1
            return _uniform_lower_bound_positive(model, expr, offset=offset)
        if name in _CLAMPS:
            return _clamp_positive(model, expr, positional_offset=1, receiver=expr.args[0].value if expr.args else None, depth=_depth)
        if isinstance(func, cst.Attribute) and name is None:
            method = func.attr.value
            if method in _POSITIVE_METHODS:
                return True
            if method in ("new_tensor", "new_full", "new_ones"):
                return True  # built from Python values
            if method in ("clamp", "clip", "clamp_", "clip_", "clamp_min", "clamp_min_"):
                return _clamp_positive(model, expr, positional_offset=0, receiver=func.value, depth=_depth)
            if method in _POSITIVE_PRESERVING_METHODS:
                return provably_positive(model, func.value, _depth + 1)
        origin = model.origin(func)
        if origin.kind is Kind.MODULE and origin.qualname == "torch.nn.Softplus":
            return True
        return False
    if isinstance(expr, cst.Subscript):
        return provably_positive(model, expr.value, _depth + 1) or _selected_by_positive_mask(model, expr)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        # -expm1(-x) = 1 - exp(-x) > 0 for x > 0 (the inverse-softplus idiom).
        inner = expr.expression
        if isinstance(inner, cst.Call) and inner.args and isinstance(inner.func, (cst.Name, cst.Attribute)) \
                and model.qualname(inner.func) in ("torch.expm1", "torch.special.expm1"):
            argument = inner.args[0].value
            if isinstance(argument, cst.UnaryOperation) and isinstance(argument.operator, cst.Minus):
                return provably_positive(model, argument.expression, _depth + 1)
        return False
    if isinstance(expr, cst.BinaryOperation):
        operator = expr.operator
        if isinstance(operator, cst.Add):
            # Clause 12 accepts `x + c` with a constant c > 0 for any x: the usual epsilon guard.
            left = constant_value(model, expr.left)
            right = constant_value(model, expr.right)
            if (left is not None and left > 0) or (right is not None and right > 0):
                return True
            return provably_positive(model, expr.left, _depth + 1) and provably_positive(model, expr.right, _depth + 1)
        if isinstance(operator, cst.Subtract):
            constant = constant_value(model, expr.left)
            upper = _clamp_upper(model, expr.right)
            return constant is not None and upper is not None and upper < constant
        if isinstance(operator, (cst.Multiply, cst.Divide)):
            return provably_positive(model, expr.left, _depth + 1) and provably_positive(model, expr.right, _depth + 1)
        return False
    if isinstance(expr, (cst.Name, cst.Attribute)):
        path = dotted_name(expr)
        if path is None:
            return False
        bindings = reaching_bindings(model, path, expr)
        if not bindings:
            return False
        for binding in bindings:
            value = _binding_value(binding)
            if value is None or not provably_positive(model, value, _depth + 1):
                return False
        return True
    return False


def _clamp_positive(model: "SemanticModel", call: cst.Call, positional_offset: int, receiver, depth: int) -> bool:
    """A clamp is positive when its lower bound is (a constant or an expression) > 0, or when
    it only bounds from below a value that is already positive."""
    lower = _clamp_lower_expression(call, positional_offset)
    if lower is not None:
        folded = constant_value(model, lower)
        if folded is not None:
            if folded > 0:
                return True
        elif provably_positive(model, lower, depth + 1):
            return True
    has_upper = any(a.keyword is not None and a.keyword.value == "max" for a in call.args) or \
        len([a for a in call.args if a.keyword is None and not a.star]) > positional_offset + 1
    method = call.func.attr.value if isinstance(call.func, cst.Attribute) else ""
    if has_upper and not method.startswith("clamp_min"):
        return False
    return receiver is not None and provably_positive(model, receiver, depth + 1)


def _clamp_lower_expression(call: cst.Call, positional_offset: int) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "min":
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if len(positional) > positional_offset:
        return positional[positional_offset].value
    return None


def _selected_by_positive_mask(model: "SemanticModel", expr: cst.Subscript) -> bool:
    """``x[mask]`` with ``mask = x > c`` (c >= 0) or ``x >= c`` (c > 0): only positive
    elements are selected."""
    if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
        return False
    mask = expr.slice[0].slice.value
    base = dotted_name(expr.value)
    if base is None:
        return False
    for _ in range(3):
        if isinstance(mask, (cst.Name, cst.Attribute)):
            bindings = reaching_bindings(model, dotted_name(mask) or "", mask)
            if len(bindings) != 1:
                return False
            value = _binding_value(bindings[0])
            if value is None:
                return False
            mask = value
        elif isinstance(mask, cst.Call) and isinstance(mask.func, cst.Attribute) and mask.func.attr.value in ("detach", "bool"):
            mask = mask.func.value
        else:
            break
    if not isinstance(mask, cst.Comparison) or len(mask.comparisons) != 1:
        return False
    target = mask.comparisons[0]
    if dotted_name(mask.left) != base:
        return False
    bound = constant_value(model, target.comparator)
    if bound is None:
        return False
    if isinstance(target.operator, cst.GreaterThan):
        return bound >= 0
    if isinstance(target.operator, cst.GreaterThanEqual):
        return bound > 0
    return False


def _literal_data_positive(model: "SemanticModel", data: cst.BaseExpression) -> bool:
    """For tensor data given as literals (numbers, nested lists/tuples of numbers): all > 0.
    Data that is not literal (a name, a config value) counts as positive."""
    if isinstance(data, (cst.List, cst.Tuple)):
        return all(_literal_data_positive(model, e.value) for e in data.elements if not isinstance(e, cst.StarredElement))
    folded = constant_value(model, data)
    if folded is not None:
        return folded > 0
    if isinstance(data, (cst.Integer, cst.Float, cst.UnaryOperation, cst.BinaryOperation)):
        return False
    return True


def _arange_positive(model: "SemanticModel", call: cst.Call) -> bool:
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    start = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "start"), None)
    if start is None and len(positional) >= 2:
        start = positional[0]
    if start is None:
        return False  # arange(n) starts at 0
    folded = constant_value(model, start)
    return folded is not None and folded > 0


def _uniform_lower_bound_positive(model: "SemanticModel", call: cst.Call, offset: int) -> bool:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("a", "from_"):
            folded = constant_value(model, arg.value)
            return folded is not None and folded > 0
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    if len(positional) > offset:
        folded = constant_value(model, positional[offset])
        return folded is not None and folded > 0
    return False


def _clamp_upper(model: "SemanticModel", expr: cst.BaseExpression, _depth: int = 0) -> float | None:
    """The constant upper bound of a clamped expression, or None."""
    if _depth > 6:
        return None
    if isinstance(expr, cst.Call):
        func = expr.func
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        offset = None
        if name in ("torch.clamp", "torch.clip"):
            offset = 1
        elif isinstance(func, cst.Attribute) and name is None and func.attr.value in ("clamp", "clip", "clamp_", "clip_"):
            offset = 0
        elif isinstance(func, cst.Attribute) and name is None and func.attr.value in ("clamp_max", "clamp_max_"):
            positional = [a for a in expr.args if a.keyword is None]
            return constant_value(model, positional[0].value) if positional else None
        if offset is not None:
            for arg in expr.args:
                if arg.keyword is not None and arg.keyword.value == "max":
                    return constant_value(model, arg.value)
            positional = [a for a in expr.args if a.keyword is None and not a.star]
            if len(positional) > offset + 1:
                return constant_value(model, positional[offset + 1].value)
        return None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        path = dotted_name(expr)
        if path is None:
            return None
        bounds = []
        for binding in reaching_bindings(model, path, expr):
            value = _binding_value(binding)
            bound = _clamp_upper(model, value, _depth + 1) if value is not None else None
            if bound is None:
                return None
            bounds.append(bound)
        return max(bounds) if bounds else None
    return None


def is_deliberate_mask(model: "SemanticModel", expr: cst.BaseExpression, _depth: int = 0) -> bool:
    """Clause 6: a 0/1 mask (``tril``/``triu``/``ones``/``eye`` result, a comparison, or
    ``.float()`` of one) whose log is meant to produce ``-inf``."""
    if _depth > 6:
        return False
    if isinstance(expr, cst.Comparison):
        return True
    if isinstance(expr, cst.Call):
        func = expr.func
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name in _MASK_BUILDERS:
            return True
        if isinstance(func, cst.Attribute) and name is None:
            if func.attr.value in ("float", "double", "half", "to", "type_as", "masked_fill"):
                return is_deliberate_mask(model, func.value, _depth + 1)
            if func.attr.value in ("tril", "triu", "tril_", "triu_"):
                return True
        return False
    if isinstance(expr, (cst.Name, cst.Attribute)):
        path = dotted_name(expr)
        if path is None:
            return False
        bindings = reaching_bindings(model, path, expr)
        return bool(bindings) and all(
            (value := _binding_value(b)) is not None and is_deliberate_mask(model, value, _depth + 1) for b in bindings
        )
    return False


# Operations that replace an infinite value on purpose (a clamp maps -inf to its lower bound).
_MASKING_FUNCTIONS = frozenset({"torch.where", "torch.nan_to_num", "torch.masked_fill", "torch.clamp", "torch.clip"})
_MASKING_METHODS = frozenset({"masked_fill", "masked_fill_", "nan_to_num", "nan_to_num_", "where", "masked_scatter",
                              "masked_scatter_", "clamp", "clamp_", "clip", "clip_", "clamp_min", "clamp_min_"})


def masked_later(model: "SemanticModel", node: cst.CSTNode) -> bool:
    """Whether the value computed by the statement holding `node` is later passed through a
    masking operation (``torch.where``, ``masked_fill``, ``nan_to_num``) in the same function:
    an infinite value there is replaced on purpose (the clause 6 idea applied after the fact,
    e.g. T5's log-spaced position buckets or DETR's inverse sigmoid)."""
    statement = model.statement_of(node)
    targets: list[str] = []
    if isinstance(statement, cst.Assign):
        for target in statement.targets:
            path = dotted_name(target.target)
            if path is not None:
                targets.append(path)
    elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
        path = dotted_name(statement.target)
        if path is not None:
            targets.append(path)
    if not targets:
        return False
    owner = function_owner(model, node)
    roots = masking_roots(model, owner)
    if not roots:
        return False
    closure = flow_closure(model, owner, roots)
    return any(t in closure for t in targets)


def masking_roots(model: "SemanticModel", owner: cst.CSTNode) -> list[cst.BaseExpression]:
    """Operands of masking operations in `owner`."""
    def compute() -> list[cst.BaseExpression]:
        from .training import calls_in

        roots: list[cst.BaseExpression] = []
        for call in calls_in(model, owner):
            func = call.func
            name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
            if name in _MASKING_FUNCTIONS:
                roots.extend(arg.value for arg in call.args)
            elif name is None and isinstance(func, cst.Attribute) and func.attr.value in _MASKING_METHODS:
                roots.append(func.value)
                roots.extend(arg.value for arg in call.args)
        return roots

    return model.cached(("masking-roots", owner), compute)
