"""A small abstract interpreter for model-construction code: ``__init__`` bodies, builder
functions and layer constructor arguments.

It never runs user code: it walks the libcst tree of the file (and, through the semantic
model's optional cross-file resolver, of other workspace files) and evaluates what is static
-- literals, arithmetic, names bound to constants, ``__init__`` parameters (their defaults when
nothing was passed), loops over literal ranges and lists, ``append``/``extend`` on lists,
``nn.Sequential``/``nn.ModuleList``/``nn.ModuleDict``, calls of same-file (or resolved)
classes, methods and functions -- and records every module built (`values.Instance`). Anything
else becomes a `values.Unknown` whose reason ends up in the hover's "not static" list.

Bounded: at most `Evaluator.max_steps` evaluation steps, a wall-clock deadline, a call-depth
limit and a cap on unrolled loop iterations; exceeding one stops the analysis with
`BudgetExceeded` (the caller reports what was counted until then as incomplete).

Two name-resolution modes:

* *interpreting* a function (``strict``): its locals come from the environment filled while
  executing its statements in order, so ``ch = ch * 2`` inside a loop is followed;
* *standalone* (a hover on a call outside any interpreted function): a name is resolved from
  its bindings in the semantic model -- a name bound once (or always to the same value) to a
  static expression has that value; a parameter stands for its default, recorded as an
  assumption.
"""

from __future__ import annotations

import ast
import math
import time
from typing import TYPE_CHECKING, Any, Iterable

import libcst as cst

from ..semantic.names import canonical, dotted_name, import_alias_qualname
from .layers import LAYERS, TENSOR_SIZES, NotStatic, Arguments, bind, docs_url, is_parameter_free
from .values import (
    ABSENT,
    Builtin,
    BoundMethod,
    ClassRef,
    FuncRef,
    Instance,
    ParamRef,
    Ref,
    SuperRef,
    TensorVal,
    Unknown,
    describe,
    first_unknown,
    is_static,
)

if TYPE_CHECKING:
    from ..semantic.classes import ClassInfo
    from ..semantic.model import SemanticModel
    from ..semantic.scopes import Binding, Scope


class BudgetExceeded(Exception):
    """The analysis took more steps or time than allowed."""


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


BUILTINS = frozenset({
    "range", "len", "int", "float", "bool", "str", "max", "min", "sum", "abs", "round", "list", "tuple", "dict",
    "zip", "enumerate", "reversed", "sorted", "isinstance", "print", "super", "setattr", "getattr", "hasattr", "divmod",
    "any", "all", "map",
})
_CONTAINERS = {
    "torch.nn.Sequential": "container",
    "torch.nn.ModuleList": "container",
    "torch.nn.ModuleDict": "container",
    "torch.nn.ParameterList": "container",
    "torch.nn.ParameterDict": "container",
}
_PARAMETER = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter"})
_SIZE_FACTORIES = frozenset({"torch.zeros", "torch.ones", "torch.empty", "torch.rand", "torch.randn", "torch.Tensor",
                             "torch.FloatTensor", "torch.randint"})
# Methods returning their receiver (modules: `.to(device)`; tensors: in-place initialisers).
_IDENTITY_METHODS = frozenset({"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval", "requires_grad_",
                               "apply", "normal_", "uniform_", "zero_", "fill_", "copy_", "clone", "detach", "contiguous",
                               "type", "share_memory", "xavier_uniform_", "trunc_normal_"})
_MAX_LOOP = 4096
_MAX_SEQUENCE = 100_000
_MAX_DEPTH = 40

_BINARY = {
    cst.Add: lambda a, b: a + b,
    cst.Subtract: lambda a, b: a - b,
    cst.Multiply: lambda a, b: a * b,
    cst.Divide: lambda a, b: a / b,
    cst.FloorDivide: lambda a, b: a // b,
    cst.Modulo: lambda a, b: a % b,
    cst.Power: lambda a, b: a**b,
    cst.LeftShift: lambda a, b: a << b,
    cst.RightShift: lambda a, b: a >> b,
    cst.BitAnd: lambda a, b: a & b,
    cst.BitOr: lambda a, b: a | b,
    cst.BitXor: lambda a, b: a ^ b,
}
_AUGMENTED = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power, cst.LeftShiftAssign: cst.LeftShift, cst.RightShiftAssign: cst.RightShift,
    cst.BitAndAssign: cst.BitAnd, cst.BitOrAssign: cst.BitOr, cst.BitXorAssign: cst.BitXor,
}
_COMPARE = {
    cst.Equal: lambda a, b: a == b,
    cst.NotEqual: lambda a, b: a != b,
    cst.LessThan: lambda a, b: a < b,
    cst.LessThanEqual: lambda a, b: a <= b,
    cst.GreaterThan: lambda a, b: a > b,
    cst.GreaterThanEqual: lambda a, b: a >= b,
    cst.In: lambda a, b: a in b,
    cst.NotIn: lambda a, b: a not in b,
}


class Frame:
    """Where an expression is evaluated.

    Attributes:
        model: the semantic model of the file the code belongs to.
        scope: the scope names are resolved in.
        env: local values (function parameters and assignments executed so far; comprehension
            variables).
        strict: interpreting the scope's function: its locals come from `env` only.
        instance: the module under construction bound to ``self``, if any.
        owner: the class whose method runs (for ``super()``).
    """

    __slots__ = ("model", "scope", "env", "strict", "instance", "owner")

    def __init__(self, model: "SemanticModel", scope: "Scope", env: dict[str, Any] | None = None, *, strict: bool = False,
                 instance: Instance | None = None, owner: "ClassInfo | None" = None) -> None:
        self.model = model
        self.scope = scope
        self.env = env if env is not None else {}
        self.strict = strict
        self.instance = instance
        self.owner = owner

    def child(self) -> "Frame":
        """A frame for a comprehension: its variables do not leak into this one."""
        return Frame(self.model, self.scope, dict(self.env), strict=self.strict, instance=self.instance, owner=self.owner)


class Evaluator:
    """Evaluates construction code; one instance per request (it memoises as it goes).

    Args:
        max_steps: evaluation steps before `BudgetExceeded`.
        deadline: `time.perf_counter()` value after which `BudgetExceeded` is raised.
        probes: call nodes whose values to record in `observed` each time they are evaluated.

    Attributes:
        observed: probed call node -> the values it produced, in evaluation order.
        assumptions: Markdown sentences stating the values assumed for unspecified sizes
            (parameter defaults), in first-use order.
    """

    def __init__(self, *, max_steps: int = 200_000, deadline: float | None = None, probes: Iterable[cst.CSTNode] = ()) -> None:
        self.max_steps = max_steps
        self.deadline = deadline
        self.steps = 0
        self.depth = 0
        self.probes = set(probes)
        self.observed: dict[cst.CSTNode, list[Any]] = {}
        self.assumptions: dict[str, None] = {}
        self._binding_memo: dict[tuple[int, str], Any] = {}
        self._instances: dict[tuple, Instance] = {}
        # "not counted" notes for blocks skipped outside any instance (module-level code).
        self.loose_missing: dict[str, None] = {}

    # ------------------------------------------------------------------ bookkeeping

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise BudgetExceeded(f"more than {self.max_steps} evaluation steps")
        if self.deadline is not None and self.steps % 256 == 0 and time.perf_counter() > self.deadline:
            raise BudgetExceeded("time limit")

    def assume(self, text: str) -> None:
        self.assumptions.setdefault(text, None)

    # ------------------------------------------------------------------ entry points

    def standalone(self, model: "SemanticModel", expr: cst.BaseExpression) -> Any:
        """The value of `expr` with names resolved from their bindings (see module docstring)."""
        return self.eval(Frame(model, model.scope_for(expr)), expr)

    def construct(self, info: "ClassInfo", positional: list[Any] | None = None, keywords: dict[str, Any] | None = None,
                  *, assume_defaults: bool = False) -> Any:
        """Build an instance of a workspace class; with `assume_defaults`, parameters not passed
        take their defaults and each is recorded as an assumption."""
        return self.call_class(info, positional or [], keywords or {}, entry=assume_defaults)

    def run(self, model: "SemanticModel", function: cst.FunctionDef, *, assume_defaults: bool = True) -> Any:
        """Interpret a function with every parameter at its default (an assumption), binding a
        method's ``self`` to a fresh instance of its class. Returns the function's result."""
        owner = model.class_of_method(function)
        instance = None
        implicit = None
        if owner is not None and not _is_static_method(function):
            if _is_class_method(function):
                implicit = ClassRef(owner)
            else:
                instance = Instance(owner.name, "class" if owner.is_module else "object", info=owner)
                implicit = instance
        return self.call_function(model, function, [], {}, implicit=implicit, instance=instance, owner=owner,
                                  entry=assume_defaults)

    # ------------------------------------------------------------------ statements

    def exec_block(self, frame: Frame, statements: Iterable[cst.CSTNode]) -> None:
        for statement in statements:
            self.exec_statement(frame, statement)

    def exec_statement(self, frame: Frame, node: cst.CSTNode) -> None:
        self.tick()
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in node.body:
                self.exec_small(frame, small)
        elif isinstance(node, cst.If):
            self.exec_if(frame, node)
        elif isinstance(node, cst.For):
            self.exec_for(frame, node)
        elif isinstance(node, cst.With):
            for item in node.items:
                value = self.eval(frame, item.item)
                if item.asname is not None:
                    self.assign(frame, item.asname.name, value if isinstance(value, Instance) else Unknown("a `with` target"))
            self.exec_block(frame, _body(node.body))
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self.exec_block(frame, _body(node.body))
            if node.orelse is not None:
                self.exec_block(frame, _body(node.orelse.body))
            if node.finalbody is not None:
                self.exec_block(frame, _body(node.finalbody.body))
        elif isinstance(node, cst.FunctionDef):
            frame.env[node.name.value] = FuncRef(frame.model, node)
        elif isinstance(node, cst.ClassDef):
            info = frame.model.classes.get(node)
            frame.env[node.name.value] = ClassRef(info) if info is not None else Unknown(f"class `{node.name.value}`")
        elif isinstance(node, cst.While):
            self.skipped(frame, node.body, f"a `while` loop")
        elif isinstance(node, (cst.IndentedBlock,)):
            self.exec_block(frame, node.body)
        else:  # match statements and anything newer
            self.skipped(frame, node, "a statement the analysis does not follow")

    def exec_small(self, frame: Frame, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Assign):
            value = self.eval(frame, node.value)
            for target in node.targets:
                self.assign(frame, target.target, value)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.assign(frame, node.target, self.eval(frame, node.value))
        elif isinstance(node, cst.AugAssign):
            self.exec_augassign(frame, node)
        elif isinstance(node, cst.Expr):
            self.eval(frame, node.value)
        elif isinstance(node, cst.Return):
            raise _Return(self.eval(frame, node.value) if node.value is not None else None)
        elif isinstance(node, cst.Break):
            raise _Break()
        elif isinstance(node, cst.Continue):
            raise _Continue()
        elif isinstance(node, cst.Raise):
            raise _Return(Unknown("the code raises an exception here"))
        elif isinstance(node, cst.Import):
            for alias in node.names:
                local, qualified = import_alias_qualname(alias, None, 0)
                frame.env[local] = Ref(qualified)
        elif isinstance(node, cst.ImportFrom):
            if isinstance(node.names, cst.ImportStar):
                return
            module = dotted_name(node.module) if node.module is not None else None
            for alias in node.names:
                local, qualified = import_alias_qualname(alias, module, len(node.relative))
                frame.env[local] = Ref(qualified)
        # pass, assert, del, global, nonlocal: nothing to track

    def exec_if(self, frame: Frame, node: cst.If) -> None:
        test = self.eval(frame, node.test)
        truth = _truth(test)
        if truth is None:
            reason = first_unknown(test)
            label = _code(frame.model, node.test)
            why = f"`if {label}:` depends on {reason.reason}" if reason is not None else f"`if {label}:` is not static"
            self.skipped(frame, node.body, why)
            if node.orelse is not None:
                self.skipped(frame, node.orelse, why)
            return
        if truth:
            self.exec_block(frame, _body(node.body))
        elif isinstance(node.orelse, cst.If):
            self.exec_if(frame, node.orelse)
        elif isinstance(node.orelse, cst.Else):
            self.exec_block(frame, _body(node.orelse.body))

    def exec_for(self, frame: Frame, node: cst.For) -> None:
        iterable = self.eval(frame, node.iter)
        items = _iterate(iterable)
        if items is None:
            reason = first_unknown(iterable)
            label = _code(frame.model, node.iter)
            why = f"the loop over `{label}`" + (f" ({reason.reason})" if reason is not None and reason.reason not in label else "")
            self.skipped(frame, node.body, why)
            return
        if len(items) > _MAX_LOOP:
            raise BudgetExceeded(f"a loop of {len(items)} iterations")
        broke = False
        for item in items:
            self.assign(frame, node.target, item)
            try:
                self.exec_block(frame, _body(node.body))
            except _Continue:
                continue
            except _Break:
                broke = True
                break
        if not broke and node.orelse is not None:
            self.exec_block(frame, _body(node.orelse.body))

    def exec_augassign(self, frame: Frame, node: cst.AugAssign) -> None:
        current = self.eval(frame, node.target)
        value = self.eval(frame, node.value)
        operator = _AUGMENTED.get(type(node.operator))
        if isinstance(current, list) and operator is cst.Add:
            items = _iterate(value)
            if items is None:
                current.append(_unknown_from(value, "items added to a list"))
            else:
                current.extend(items)
            return
        if isinstance(current, Instance) and operator is cst.Add and current.resolved().qualname == "torch.nn.ModuleList":
            self.container_extend(current, value)
            return
        result = self.binary(operator, current, value) if operator is not None else Unknown("an augmented assignment")
        self.assign(frame, node.target, result)

    def skipped(self, frame: Frame, block: cst.CSTNode, why: str) -> None:
        """A block that is not executed because a condition or loop is not static: when it
        could build modules, say so in the instance's missing list."""
        if _builds_modules(frame.model, block):
            self._note_frame_missing(frame, why)

    def _note_frame_missing(self, frame: Frame, why: str) -> None:
        text = f"modules built under {why} are not counted" if not why.startswith("`if") else f"modules built when {why} are not counted"
        target = frame.instance
        if target is not None:
            target.make_writable()
            if text not in target.missing:
                target.missing.append(text)
        else:
            self.loose_missing.setdefault(text, None)

    def assign(self, frame: Frame, target: cst.BaseExpression, value: Any) -> None:
        self.tick()
        if isinstance(target, cst.Name):
            frame.env[target.value] = value
        elif isinstance(target, cst.Attribute):
            receiver = self.eval(frame, target.value)
            if isinstance(receiver, Instance):
                name = target.attr.value
                if isinstance(value, Unknown) and value.call is not None and receiver.resolved().kind in ("class", "container"):
                    receiver.make_writable()
                    note = f"`{_code(frame.model, target)} = {value.call}` is not analysed: {value.reason}"
                    if note not in receiver.missing:
                        receiver.missing.append(note)
                if receiver.resolved().spec is not None and (isinstance(value, ParamRef) or
                                                             (isinstance(value, Instance) and value.resolved().kind == "parameter")):
                    self.replace_tensor(frame, receiver, name, value, target)
                else:
                    receiver.register(name, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            items = _iterate(value)
            starred = [i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)]
            if items is None or (not starred and len(items) != len(elements)):
                for element in elements:
                    self.assign(frame, element.value, _unknown_from(value, "an unpacked value"))
                return
            if starred:
                star = starred[0]
                after = len(elements) - star - 1
                head, middle, tail = items[:star], items[star: len(items) - after], items[len(items) - after:]
                values = head + [list(middle)] + tail
            else:
                values = items
            for element, item in zip(elements, values):
                self.assign(frame, element.value, item)
        elif isinstance(target, cst.Subscript):
            container = self.eval(frame, target.value)
            key = self.subscript_key(frame, target)
            if isinstance(container, list) and isinstance(key, int) and -len(container) <= key < len(container):
                container[key] = value
            elif isinstance(container, dict) and is_static(key):
                container[key] = value
            elif isinstance(container, Instance) and container.resolved().kind == "container":
                container.make_writable()
                container.children[str(key) if is_static(key) else f"?{len(container.children)}"] = value
        elif isinstance(target, cst.StarredElement):
            self.assign(frame, target.value, value)

    # ------------------------------------------------------------------ expressions

    def eval(self, frame: Frame, node: cst.BaseExpression) -> Any:
        self.tick()
        kind = type(node)
        if kind is cst.Name:
            return self.lookup(frame, node.value, node)
        if kind is cst.Integer or kind is cst.Float:
            try:
                return ast.literal_eval(node.value)
            except (ValueError, SyntaxError):
                return Unknown(f"`{node.value}`")
        if kind is cst.SimpleString or kind is cst.ConcatenatedString:
            value = node.evaluated_value
            return value if isinstance(value, str) else Unknown("a string")
        if kind is cst.Attribute:
            return self.eval_attribute(frame, node)
        if kind is cst.Call:
            return self.eval_call(frame, node)
        if kind is cst.BinaryOperation:
            return self.binary(type(node.operator), self.eval(frame, node.left), self.eval(frame, node.right))
        if kind is cst.UnaryOperation:
            return self.unary(node, self.eval(frame, node.expression))
        if kind is cst.BooleanOperation:
            left = self.eval(frame, node.left)
            truth = _truth(left)
            if truth is None:
                return _unknown_from(left, f"`{_code(frame.model, node)}`")
            if isinstance(node.operator, cst.And):
                return self.eval(frame, node.right) if truth else left
            return left if truth else self.eval(frame, node.right)
        if kind is cst.Comparison:
            return self.compare(frame, node)
        if kind is cst.IfExp:
            truth = _truth(self.eval(frame, node.test))
            if truth is None:
                return Unknown(f"`{_code(frame.model, node.test)}`")
            return self.eval(frame, node.body if truth else node.orelse)
        if kind is cst.Tuple:
            return tuple(self.sequence(frame, node.elements))
        if kind is cst.List:
            return list(self.sequence(frame, node.elements))
        if kind is cst.Set:
            return Unknown("a set")
        if kind is cst.Dict:
            return self.eval_dict(frame, node)
        if kind in (cst.ListComp, cst.GeneratorExp, cst.SetComp):
            items = self.comprehension(frame, node.for_in, node.elt)
            if isinstance(items, Unknown):
                return items
            return items if kind is not cst.SetComp else Unknown("a set")
        if kind is cst.DictComp:
            return self.dict_comprehension(frame, node)
        if kind is cst.Subscript:
            return self.eval_subscript(frame, node)
        if kind is cst.NamedExpr:
            value = self.eval(frame, node.value)
            self.assign(frame, node.target, value)
            return value
        if kind is cst.FormattedString:
            return Unknown("an f-string")
        return Unknown(f"`{_code(frame.model, node)}`")

    def sequence(self, frame: Frame, elements) -> list[Any]:
        result: list[Any] = []
        for element in elements:
            if isinstance(element, cst.StarredElement):
                value = self.eval(frame, element.value)
                items = _iterate(value)
                if items is None:
                    result.append(_unknown_from(value, f"`*{_code(frame.model, element.value)}`"))
                else:
                    result.extend(items)
            else:
                result.append(self.eval(frame, element.value))
            if len(result) > _MAX_SEQUENCE:
                raise BudgetExceeded("a sequence too long to follow")
        return result

    def eval_dict(self, frame: Frame, node: cst.Dict) -> Any:
        result: dict[Any, Any] = {}
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                value = self.eval(frame, element.value)
                if not isinstance(value, dict):
                    return Unknown(f"`**{_code(frame.model, element.value)}`")
                result.update(value)
                continue
            key = self.eval(frame, element.key)
            if not is_static(key) or isinstance(key, (list, dict)):
                return Unknown("a dictionary key")
            result[key] = self.eval(frame, element.value)
        return result

    def comprehension(self, frame: Frame, for_in: cst.CompFor, element: cst.BaseExpression) -> Any:
        results: list[Any] = []
        inner = frame.child()

        def walk(comp: cst.CompFor) -> Unknown | None:
            iterable = self.eval(inner, comp.iter)
            items = _iterate(iterable)
            if items is None:
                return _unknown_from(iterable, f"`{_code(frame.model, comp.iter)}`")
            if len(items) > _MAX_LOOP:
                raise BudgetExceeded(f"a comprehension of {len(items)} items")
            for item in items:
                self.assign(inner, comp.target, item)
                keep = True
                for condition in comp.ifs:
                    truth = _truth(self.eval(inner, condition.test))
                    if truth is None:
                        return Unknown(f"`{_code(frame.model, condition.test)}`")
                    if not truth:
                        keep = False
                        break
                if not keep:
                    continue
                if comp.inner_for_in is not None:
                    failed = walk(comp.inner_for_in)
                    if failed is not None:
                        return failed
                else:
                    results.append(element(inner) if callable(element) else self.eval(inner, element))
            return None

        failed = walk(for_in)
        return failed if failed is not None else results

    def dict_comprehension(self, frame: Frame, node: cst.DictComp) -> Any:
        pairs = self.comprehension(frame, node.for_in, lambda inner: (self.eval(inner, node.key), self.eval(inner, node.value)))
        if isinstance(pairs, Unknown):
            return pairs
        result = {}
        for key, value in pairs:
            if not is_static(key) or isinstance(key, (list, dict)):
                return Unknown("a dictionary key")
            result[key] = value
        return result

    def subscript_key(self, frame: Frame, node: cst.Subscript) -> Any:
        if len(node.slice) != 1:
            return Unknown("a multi-dimensional subscript")
        inner = node.slice[0].slice
        if isinstance(inner, cst.Index):
            return self.eval(frame, inner.value)
        lower = self.eval(frame, inner.lower) if inner.lower is not None else None
        upper = self.eval(frame, inner.upper) if inner.upper is not None else None
        step = self.eval(frame, inner.step) if inner.step is not None else None
        if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (lower, upper, step)):
            return slice(lower, upper, step)
        return Unknown("a slice")

    def eval_subscript(self, frame: Frame, node: cst.Subscript) -> Any:
        container = self.eval(frame, node.value)
        key = self.subscript_key(frame, node)
        if isinstance(key, Unknown):
            return key
        if isinstance(container, (list, tuple, str, range)):
            try:
                return container[key]
            except (IndexError, TypeError):
                return Unknown(f"`{_code(frame.model, node)}`")
        if isinstance(container, dict):
            try:
                return container[key]
            except (KeyError, TypeError):
                return Unknown(f"`{_code(frame.model, node)}`")
        if isinstance(container, Instance):
            children = container.resolved().children
            if isinstance(key, int) and not isinstance(key, bool):
                values = list(children.values())
                if -len(values) <= key < len(values):
                    return values[key]
            elif isinstance(key, str) and key in children:
                return children[key]
        if isinstance(container, TensorVal):
            return TensorVal(None)
        return _unknown_from(container, f"`{_code(frame.model, node)}`")

    def eval_attribute(self, frame: Frame, node: cst.Attribute) -> Any:
        name = node.attr.value
        if not frame.strict:
            # Standalone: `self.dim` in a method is the value of its single `self.dim = ...`.
            path = dotted_name(node)
            method_scope = frame.model.method_scope(frame.scope)
            if path is not None and method_scope is not None and path.split(".", 1)[0] == method_scope.self_name \
                    and path.count(".") == 1:
                bindings = frame.model.bindings_of(path, frame.scope)
                if bindings:
                    return self.binding_value(frame.model, frame.model.scope_for(bindings[0].node), path, bindings)
        receiver = self.eval(frame, node.value)
        return self.attribute(frame, receiver, name, node)

    def attribute(self, frame: Frame, receiver: Any, name: str, node: cst.CSTNode | None = None) -> Any:
        if isinstance(receiver, Ref):
            return Ref(canonical(receiver.qualname + "." + name))
        if isinstance(receiver, Instance):
            found = receiver.get(name)
            if found is not ABSENT:
                return found
            source = receiver.resolved()
            if source.spec is not None and name in TENSOR_SIZES.get(source.spec.name, {}):
                return ParamRef(source, name)
            info = source.info
            if info is not None:
                method = _find_method(info, name)
                if method is not None:
                    return BoundMethod(receiver, name)
                attribute = self.class_attribute(info, name)
                if attribute is not ABSENT:
                    return attribute
            if name in _IDENTITY_METHODS or name in ("append", "extend", "insert", "add_module", "register_module",
                                                     "register_parameter", "register_buffer", "parameters", "modules"):
                return BoundMethod(receiver, name)
            return Unknown(f"`{receiver.label}.{name}`")
        if isinstance(receiver, ClassRef):
            method = _find_method(receiver.info, name)
            if method is not None:
                function, owner = method
                return FuncRef(owner.model, function, owner)
            attribute = self.class_attribute(receiver.info, name)
            if attribute is not ABSENT:
                return attribute
            return Unknown(f"`{receiver.info.name}.{name}`")
        if isinstance(receiver, (list, dict, TensorVal)):
            return BoundMethod(receiver, name)
        if isinstance(receiver, SuperRef):
            return BoundMethod(receiver, name)
        if isinstance(receiver, Unknown):
            return receiver
        return Unknown(f"`.{name}` of {describe(receiver)}")

    def class_attribute(self, info: "ClassInfo", name: str) -> Any:
        """A class-body constant (``expansion = 4``) through the lineage, or `ABSENT`."""
        for ancestor in info.lineage():
            scope = ancestor.model.scopes[ancestor.node]
            bindings = scope.bindings.get(name)
            if bindings:
                return self.binding_value(ancestor.model, scope, name, bindings)
        return ABSENT

    def replace_tensor(self, frame: Frame, layer: Instance, name: str, value: Any, target: cst.CSTNode) -> None:
        """``layer.weight = other.weight`` (weight tying) or ``= nn.Parameter(...)``: the
        layer's own tensor is no longer among the parameters; a shared tensor is counted once
        (where it was created), a new Parameter on its own."""
        source = layer.resolved()
        sizes = TENSOR_SIZES.get(source.spec.name, {}) if source.spec is not None else {}
        size = sizes.get(name)
        label = _code(frame.model, target)
        layer.make_writable()
        if size is None:
            layer.missing.append(f"`{label} = ...`: replacing `{name}` of `{source.spec.name if source.spec else layer.label}` is not followed")
            return
        try:
            removed = size(Arguments(source.args, source.spec.defaults, is_static))  # type: ignore[union-attr]
        except NotStatic:
            layer.missing.append(f"`{label} = ...`: the size of the replaced `{name}` is not static")
            return
        layer.own -= removed
        if isinstance(value, Instance):
            layer.children[name] = value
        else:
            layer.notes.append(f"`{label}` is tied to `{value.owner.label}`'s `{value.name}`: the shared tensor is counted once")

    def compare(self, frame: Frame, node: cst.Comparison) -> Any:
        left = self.eval(frame, node.left)
        for target in node.comparisons:
            right = self.eval(frame, target.comparator)
            operator = type(target.operator)
            if operator in (cst.Is, cst.IsNot):
                if isinstance(left, Unknown) or isinstance(right, Unknown):
                    return _unknown_from(left if isinstance(left, Unknown) else right, "a comparison")
                if right is None or left is None:
                    same = left is None and right is None
                elif isinstance(left, (bool,)) and isinstance(right, bool):
                    same = left is right
                else:
                    return Unknown("an identity comparison")
                result = same if operator is cst.Is else not same
            else:
                if not is_static(left) or not is_static(right):
                    return _unknown_from(right if is_static(left) else left, f"`{_code(frame.model, node)}`")
                try:
                    result = _COMPARE[operator](left, right)
                except (TypeError, KeyError):
                    return Unknown(f"`{_code(frame.model, node)}`")
            if not result:
                return False
            left = right
        return True

    def binary(self, operator: type | None, left: Any, right: Any) -> Any:
        if isinstance(left, Unknown):
            return left
        if isinstance(right, Unknown):
            return right
        if isinstance(left, TensorVal) or isinstance(right, TensorVal):
            tensor = left if isinstance(left, TensorVal) else right
            other = right if tensor is left else left
            return tensor if isinstance(other, (int, float)) and not isinstance(other, bool) else TensorVal(None)
        function = _BINARY.get(operator)  # type: ignore[arg-type]
        if function is None or not is_static(left) or not is_static(right):
            return Unknown("an expression")
        if operator is cst.Power and isinstance(right, (int, float)) and abs(right) > 256:
            return Unknown("a large power")
        if operator is cst.Multiply and ((isinstance(left, (list, tuple, str)) and isinstance(right, int) and right * len(left) > _MAX_SEQUENCE)
                                         or (isinstance(right, (list, tuple, str)) and isinstance(left, int) and left * len(right) > _MAX_SEQUENCE)):
            raise BudgetExceeded("a sequence too long to follow")
        try:
            return function(left, right)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return Unknown("an expression")

    def unary(self, node: cst.UnaryOperation, value: Any) -> Any:
        if isinstance(node.operator, cst.Not):
            truth = _truth(value)
            return Unknown("a negation") if truth is None else not truth
        if isinstance(value, Unknown) or not isinstance(value, (int, float)):
            return _unknown_from(value, "an expression")
        if isinstance(node.operator, cst.Minus):
            return -value
        if isinstance(node.operator, cst.Plus):
            return +value
        if isinstance(node.operator, cst.BitInvert) and isinstance(value, int):
            return ~value
        return Unknown("an expression")

    # ------------------------------------------------------------------ names

    def lookup(self, frame: Frame, name: str, node: cst.CSTNode | None = None) -> Any:
        if name in frame.env:
            return frame.env[name]
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return None
        scope = frame.scope
        model = frame.model
        if frame.strict and scope.kind in ("function", "lambda") and name in scope.bindings:
            return Unknown(f"`{name}` (not static at this point)")
        chain = scope.lookup_chain()
        if frame.strict and chain and chain[0] is scope and scope.kind in ("function", "lambda"):
            chain = chain[1:]
        for current in chain:
            bindings = current.bindings.get(name)
            if bindings:
                return self.binding_value(model, current, name, bindings)
        if name in BUILTINS:
            return Builtin(name)
        return Unknown(f"`{name}` (not defined in this file)")

    def binding_value(self, model: "SemanticModel", scope: "Scope", name: str, bindings: list["Binding"]) -> Any:
        """The value of a name from its bindings in `scope` (standalone resolution)."""
        key = (id(bindings[0].node), name)
        if key in self._binding_memo:
            return self._binding_memo[key]
        self._binding_memo[key] = Unknown(f"`{name}` (defined in terms of itself)")
        value = self._binding_value(model, scope, name, bindings)
        self._binding_memo[key] = value
        return value

    def _binding_value(self, model: "SemanticModel", scope: "Scope", name: str, bindings: list["Binding"]) -> Any:
        last = bindings[-1]
        if last.kind == "import":
            return Ref(last.qualname or name)
        if last.kind == "class":
            info = model.classes.get(last.node)  # type: ignore[arg-type]
            return ClassRef(info) if info is not None else Unknown(f"class `{name}`")
        if last.kind == "def":
            return FuncRef(model, last.node, model.class_of_method(last.node))  # type: ignore[arg-type]
        values = []
        for binding in bindings:
            if binding.kind == "param":
                if len(bindings) > 1:
                    return Unknown(f"`{name}` (a parameter that is reassigned)")
                param = binding.node
                function = _function_of_param(model, param)
                label = f"`{function.name.value}`" if function is not None else "its function"
                if binding.value is None:
                    return Unknown(f"`{name}` (a parameter of {label} without a default)")
                outer = model.scope_for(function) if function is not None else scope
                value = self.eval(Frame(model, outer), binding.value)
                if is_static(value):
                    self.assume(f"`{name}` = {describe(value)} (the default of {label})")
                return value
            if binding.kind in ("assign", "annassign", "walrus"):
                if binding.value is None:
                    return Unknown(f"`{name}` (declared without a value)")
                if binding.unpack:
                    value = self.eval(Frame(model, model.scope_for(binding.node)), binding.value)
                    for index in binding.unpack:
                        items = _iterate(value)
                        if items is None or index < 0 or index >= len(items):
                            return Unknown(f"`{name}` (an unpacked value)")
                        value = items[index]
                    values.append(value)
                    continue
                values.append(self.eval(Frame(model, model.scope_for(binding.node)), binding.value))
                continue
            if binding.kind == "for":
                return Unknown(f"`{name}` (a loop variable)")
            return Unknown(f"`{name}` (changes: {binding.kind})")
        if not values:
            return Unknown(f"`{name}`")
        first = values[0]
        if len(values) == 1:
            return first
        if all(is_static(v) for v in values) and all(v == first for v in values[1:]):
            return first
        return Unknown(f"`{name}` (assigned {len(values)} times)")

    # ------------------------------------------------------------------ calls

    def eval_call(self, frame: Frame, node: cst.Call) -> Any:
        callee = self.eval(frame, node.func)
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        unknown_star = False
        for arg in node.args:
            if arg.star == "*":
                value = self.eval(frame, arg.value)
                items = _iterate(value)
                if items is None:
                    unknown_star = True
                else:
                    positional.extend(items)
            elif arg.star == "**":
                value = self.eval(frame, arg.value)
                if isinstance(value, dict) and all(isinstance(k, str) for k in value):
                    keywords.update(value)
                else:
                    unknown_star = True
            elif arg.keyword is not None:
                keywords[arg.keyword.value] = self.eval(frame, arg.value)
            else:
                positional.append(self.eval(frame, arg.value))
        result = self.apply(frame, callee, positional, keywords, node, unknown_star=unknown_star)
        if isinstance(result, Unknown) and result.call is None and _may_build_module(node.func, callee):
            result = Unknown(result.reason, call=_code(frame.model, node))
        if node in self.probes:
            self.observed.setdefault(node, []).append(result)
        return result

    def apply(self, frame: Frame, callee: Any, positional: list[Any], keywords: dict[str, Any], node: cst.Call | None,
              *, unknown_star: bool = False) -> Any:
        if isinstance(callee, Ref):
            return self.call_qualname(frame, callee.qualname, positional, keywords, node, unknown_star=unknown_star)
        if isinstance(callee, ClassRef):
            if unknown_star:
                return self.opaque(callee.info.name, "`*args`/`**kwargs` whose contents are not static were passed")
            return self.call_class(callee.info, positional, keywords)
        if isinstance(callee, FuncRef):
            if unknown_star:
                return Unknown(f"`{callee.node.name.value}(...)` with `*args` whose contents are not static")
            implicit = None
            if callee.owner is not None and _is_class_method(callee.node):
                implicit = ClassRef(callee.owner)
            return self.call_function(callee.model, callee.node, positional, keywords, implicit=implicit, owner=callee.owner)
        if isinstance(callee, BoundMethod):
            return self.call_method(frame, callee, positional, keywords, node)
        if isinstance(callee, Builtin):
            return self.call_builtin(frame, callee.name, positional, keywords)
        if isinstance(callee, Instance):
            return Unknown(f"the output of `{callee.label}`")
        return _unknown_from(callee, "a call")

    def call_qualname(self, frame: Frame, qualname: str, positional: list[Any], keywords: dict[str, Any],
                      node: cst.Call | None, *, unknown_star: bool = False) -> Any:
        qualname = canonical(qualname)
        label = _call_label(frame.model, node, qualname)
        spec = LAYERS.get(qualname)
        if spec is not None:
            return self.layer(spec, qualname, label, positional, keywords, unknown_star)
        if qualname in _CONTAINERS:
            return self.container(qualname, label, positional, keywords, unknown_star)
        if qualname in ("torch.nn.TransformerEncoder", "torch.nn.TransformerDecoder"):
            return self.stack(qualname, label, positional, keywords)
        if qualname in _PARAMETER:
            return self.parameter(label, positional, keywords)
        if is_parameter_free(qualname):
            return Instance(label, "layer", qualname=qualname)
        if qualname.startswith("torch.nn.") and qualname.rsplit(".", 1)[-1][:1].isupper():
            return self.opaque(label, f"`{_short(qualname)}` has no parameter formula here", qualname=qualname)
        if qualname in _SIZE_FACTORIES or qualname in ("torch.full", "torch.tensor", "torch.arange", "torch.eye", "torch.linspace"):
            return _tensor(qualname, positional, keywords)
        if qualname == "torch.Size":
            return tuple(positional[0]) if positional and isinstance(positional[0], (list, tuple)) else Unknown("a size")
        if qualname.startswith("math."):
            return _math(qualname, positional)
        if qualname in ("collections.OrderedDict",):
            return self.call_builtin(frame, "dict", positional, keywords)
        if qualname in ("copy.deepcopy", "copy.copy"):
            if positional and isinstance(positional[0], Instance):
                return Instance(positional[0].label, "repeat", template=positional[0], times=1)
            return positional[0] if positional and is_static(positional[0]) else Unknown("a copy")
        if qualname.startswith(("torch.", "numpy.", "builtins.")):
            return Unknown(f"`{_short(qualname)}(...)`")
        definition = self.resolve(frame.model, qualname)
        if definition is not None:
            return self.apply(frame, definition, positional, keywords, node, unknown_star=unknown_star)
        where = "another module" if frame.model.resolver is None else "a module the cross-file resolver could not follow"
        return Unknown(f"`{_short(qualname)}(...)` (defined in {where})")

    def resolve(self, model: "SemanticModel", qualname: str) -> Any:
        """A workspace class or function named `qualname` (an import of `model`), through the
        model's cross-file resolver, as a `ClassRef`/`FuncRef`; None when unavailable."""
        resolver = model.resolver
        if resolver is None:
            return None
        definition = resolver.definition(model, qualname)
        if definition is None:
            return None
        foreign = definition.model
        if isinstance(definition.node, cst.ClassDef):
            info = foreign.classes.get(definition.node)
            return ClassRef(info) if info is not None else None
        return FuncRef(foreign, definition.node, foreign.class_of_method(definition.node))

    def layer(self, spec, qualname: str, label: str, positional, keywords, unknown_star: bool) -> Instance:
        bound = bind(spec, positional, keywords, unknown_star=unknown_star)
        instance = Instance(label, "layer", spec=spec, qualname=qualname)
        instance.args = dict(bound.values)
        if bound.errors:
            instance.missing.append(f"`{label}`: {bound.errors[0]}")
            return instance
        values = dict(bound.values)
        if unknown_star:
            for param in spec.params:
                values.setdefault(param, Unknown("`*args`/`**kwargs` whose contents are not static"))
        try:
            instance.own = spec.count(Arguments(values, spec.defaults, is_static))
        except NotStatic as error:
            value = values.get(error.argument)
            reason = first_unknown(value) if value is not None else None
            if error.argument not in values and error.argument not in spec.defaults:
                why = "is not passed"
            elif reason is not None:
                why = f"is {reason.reason}" if not reason.reason.startswith("`") else f"= {reason.reason}, not static"
            else:
                why = f"= {describe(value)} is not a valid size"
            instance.missing.append(f"`{label}`: `{error.argument}` {why}")
        return instance

    def container(self, qualname: str, label: str, positional, keywords, unknown_star: bool) -> Instance:
        instance = Instance(label, "container", qualname=qualname)
        if unknown_star:
            instance.missing.append(f"`{label}`: its contents come from `*args` that are not static")
            return instance
        if qualname == "torch.nn.Sequential":
            if len(positional) == 1 and isinstance(positional[0], dict):
                entries = list(positional[0].items())
            else:
                entries = [(str(i), v) for i, v in enumerate(positional)]
        else:
            source = positional[0] if positional else keywords.get("modules", keywords.get("values", keywords.get("parameters")))
            if source is None:
                entries = []
            elif isinstance(source, dict):
                entries = list(source.items())
            else:
                items = _iterate(source)
                if items is None:
                    instance.missing.append(f"`{label}`: {_reason(source, 'its contents are not static')}")
                    return instance
                entries = [(str(i), v) for i, v in enumerate(items)]
        for key, value in entries:
            self.add_child(instance, str(key), value)
        return instance

    def add_child(self, container: Instance, key: str, value: Any) -> None:
        container.make_writable()
        if isinstance(value, Instance):
            container.children[key] = value
        elif isinstance(value, TensorVal):
            self.add_child(container, key, self.parameter("nn.Parameter", [value], {}))
        elif isinstance(value, Unknown):
            container.missing.append(f"`{container.label}`: an element is {value.reason}" if value.reason.startswith("`")
                                     else f"`{container.label}`: an element is not static ({value.reason})")
        elif value is not None:
            container.missing.append(f"`{container.label}`: an element ({describe(value)}) is not a module")

    def container_extend(self, container: Instance, values: Any) -> None:
        items = _iterate(values)
        if items is None:
            container.make_writable()
            container.missing.append(f"`{container.label}`: {_reason(values, 'items added are not static')}")
            return
        for value in items:
            self.add_child(container, str(len(container.resolved().children)), value)

    def stack(self, qualname: str, label: str, positional, keywords) -> Instance:
        """``nn.TransformerEncoder(layer, num_layers, norm)``: `num_layers` deep copies of the
        layer (the layer passed in is not itself registered) and the optional final norm."""
        names = ("encoder_layer" if qualname.endswith("Encoder") else "decoder_layer", "num_layers", "norm")
        values = dict(zip(names, positional))
        values.update({k: v for k, v in keywords.items() if k in names})
        instance = Instance(label, "container", qualname=qualname)
        layer = values.get(names[0])
        count = values.get("num_layers")
        if not isinstance(layer, Instance):
            instance.missing.append(f"`{label}`: {_reason(layer, 'the layer is not static')}")
        elif not isinstance(count, int) or isinstance(count, bool):
            instance.missing.append(f"`{label}`: `num_layers` {_reason(count, 'is not static')}")
        else:
            instance.children["layers"] = Instance(f"{count} × {layer.label}", "repeat", template=layer, times=count)
        norm = values.get("norm")
        if isinstance(norm, Instance):
            instance.children["norm"] = norm
        elif norm is not None:
            instance.missing.append(f"`{label}`: `norm` {_reason(norm, 'is not static')}")
        return instance

    def parameter(self, label: str, positional, keywords) -> Instance:
        data = positional[0] if positional else keywords.get("data")
        instance = Instance(label, "parameter", qualname="torch.nn.Parameter")
        if data is None and not positional and "data" not in keywords:
            return instance  # nn.Parameter() is an empty tensor
        if isinstance(data, TensorVal) and data.numel is not None:
            instance.own = data.numel
        else:
            instance.missing.append(f"`{label}`: the tensor's shape is not static")
        return instance

    def opaque(self, label: str, why: str, *, qualname: str | None = None) -> Instance:
        instance = Instance(label, "opaque", qualname=qualname)
        instance.missing.append(f"`{label}`: {why}")
        return instance

    def call_class(self, info: "ClassInfo", positional: list[Any], keywords: dict[str, Any], *, entry: bool = False) -> Any:
        key = None
        if not entry and all(_memo_key(v) is not None for v in positional) and all(_memo_key(v) is not None for v in keywords.values()):
            key = (id(info.node), tuple(_memo_key(v) for v in positional), tuple(sorted((k, _memo_key(v)) for k, v in keywords.items())))
            template = self._instances.get(key)
            if template is not None:
                return Instance(template.label, "repeat", template=template, times=1)
        instance = Instance(info.name, "class" if info.is_module else "object", info=info)
        if not info.is_module and info.method("__init__") is None:
            self.dataclass_fields(info, instance, positional, keywords)
            return instance
        self.run_init(info, instance, positional, keywords, entry=entry)
        if key is not None and info.is_module:
            self._instances[key] = instance
            return Instance(instance.label, "repeat", template=instance, times=1)
        return instance

    def run_init(self, info: "ClassInfo", instance: Instance, positional: list[Any], keywords: dict[str, Any], *,
                 entry: bool = False) -> None:
        found = _find_method(info, "__init__")
        if found is None:
            self.external_init(info, instance, positional, keywords)
            return
        function, owner = found
        result = self.call_function(owner.model, function, positional, keywords, implicit=instance, instance=instance,
                                    owner=owner, entry=entry)
        if isinstance(result, Unknown) and "raises" in result.reason:
            instance.missing.append(f"`{info.name}.__init__` raises an exception on this path")

    def external_init(self, info: "ClassInfo", instance: Instance, positional: list[Any], keywords: dict[str, Any]) -> None:
        """``__init__`` inherited from bases outside the file: ``nn.Module`` adds nothing, a
        ``torch.nn`` layer or container base adds its parameters, a base resolved in another
        workspace file runs its ``__init__``; any other base is reported as not analysed."""
        for base in _external_bases(info):
            if base in ("torch.nn.Module", "object", "typing.Generic"):
                continue
            qualname = canonical(base)
            if qualname in LAYERS or qualname in _CONTAINERS or is_parameter_free(qualname) \
                    or qualname in ("torch.nn.TransformerEncoder", "torch.nn.TransformerDecoder"):
                built = self.call_qualname(Frame(info.model, info.model.root_scope), qualname, positional, keywords, None)
                if isinstance(built, Instance):
                    instance.make_writable()
                    instance.own += built.own
                    instance.children.update(built.children)
                    instance.missing.extend(built.missing)
                    if built.spec is not None:
                        instance.spec = built.spec
                        instance.qualname = qualname
                return
            definition = self.resolve(info.model, base)
            if isinstance(definition, ClassRef):
                self.run_init(definition.info, instance, positional, keywords)
                return
            if not info.is_module:
                return
            instance.make_writable()
            instance.missing.append(f"`{info.name}`: its base class `{_short(base)}` is not analysed")
            return

    def dataclass_fields(self, info: "ClassInfo", instance: Instance, positional: list[Any], keywords: dict[str, Any]) -> None:
        """A plain (config) class without ``__init__``: annotated class attributes with defaults,
        overridden by the call's arguments in field order (a dataclass)."""
        scope = info.model.scopes[info.node]
        fields = []
        for name, bindings in scope.bindings.items():
            binding = bindings[-1]
            if binding.kind in ("annassign", "assign"):
                fields.append(name)
                instance.attrs[name] = self.binding_value(info.model, scope, name, bindings) if binding.value is not None \
                    else Unknown(f"`{info.name}.{name}`")
        for name, value in zip(fields, positional):
            instance.attrs[name] = value
        for name, value in keywords.items():
            instance.attrs[name] = value

    def call_function(self, model: "SemanticModel", function: cst.FunctionDef, positional: list[Any], keywords: dict[str, Any],
                      *, implicit: Any = None, instance: Instance | None = None, owner: "ClassInfo | None" = None,
                      entry: bool = False) -> Any:
        if self.depth >= _MAX_DEPTH:
            return Unknown(f"`{function.name.value}` (calls nested too deeply)")
        scope = model.scopes.get(function)
        if scope is None:
            return Unknown(f"`{function.name.value}`")
        env = self.bind_parameters(model, function, positional, keywords, implicit=implicit, entry=entry)
        frame = Frame(model, scope, env, strict=True, instance=instance, owner=owner)
        self.depth += 1
        try:
            self.exec_block(frame, _body(function.body))
        except _Return as returned:
            return returned.value
        except (_Break, _Continue):
            return None
        finally:
            self.depth -= 1
        return None

    def bind_parameters(self, model: "SemanticModel", function: cst.FunctionDef, positional: list[Any], keywords: dict[str, Any],
                        *, implicit: Any = None, entry: bool = False) -> dict[str, Any]:
        params = function.params
        ordered = list(params.posonly_params) + list(params.params)
        env: dict[str, Any] = {}
        if implicit is not None and ordered:
            env[ordered[0].name.value] = implicit
            ordered = ordered[1:]
        for param, value in zip(ordered, positional):
            env[param.name.value] = value
        extra = positional[len(ordered):]
        star = params.star_arg if isinstance(params.star_arg, cst.Param) else None
        if star is not None:
            env[star.name.value] = tuple(extra)
        names = {p.name.value for p in ordered} | {p.name.value for p in params.kwonly_params}
        rest: dict[str, Any] = {}
        for name, value in keywords.items():
            if name in names:
                env[name] = value
            else:
                rest[name] = value
        if params.star_kwarg is not None:
            env[params.star_kwarg.name.value] = rest
        outer = model.scope_for(function)
        label = f"`{function.name.value}`"
        owner = model.class_of_method(function)
        if owner is not None:
            label = f"`{owner.name}.{function.name.value}`"
        for param in ordered + list(params.kwonly_params):
            name = param.name.value
            if name in env:
                continue
            if param.default is not None:
                value = self.eval(Frame(model, outer), param.default)
                env[name] = value
                if entry and (is_static(value) or isinstance(value, (ClassRef, FuncRef, Ref))):
                    self.assume(f"`{name}` = {describe(value)} (the default of {label})")
            else:
                env[name] = Unknown(f"`{name}` (a parameter of {label} without a default)" if entry else f"`{name}` (not passed)")
        return env

    def call_method(self, frame: Frame, method: BoundMethod, positional: list[Any], keywords: dict[str, Any],
                    node: cst.Call | None) -> Any:
        receiver = method.receiver
        name = method.name
        if isinstance(receiver, SuperRef):
            return self.call_super(receiver, name, positional, keywords)
        if isinstance(receiver, list):
            if name == "append" and len(positional) == 1:
                receiver.append(positional[0])
            elif name == "extend" and len(positional) == 1:
                items = _iterate(positional[0])
                receiver.extend(items if items is not None else [_unknown_from(positional[0], "items added to a list")])
            elif name == "insert" and len(positional) == 2 and isinstance(positional[0], int):
                receiver.insert(positional[0], positional[1])
            elif name == "pop" and receiver:
                return receiver.pop(positional[0] if positional and isinstance(positional[0], int) else -1)
            elif name == "copy":
                return list(receiver)
            elif name == "index" and positional and is_static(positional[0]) and positional[0] in receiver:
                return receiver.index(positional[0])
            else:
                return Unknown(f"`list.{name}(...)`")
            return None
        if isinstance(receiver, dict):
            if name == "items":
                return [tuple(pair) for pair in receiver.items()]
            if name == "keys":
                return list(receiver.keys())
            if name == "values":
                return list(receiver.values())
            if name == "get" and positional and is_static(positional[0]) and not isinstance(positional[0], (list, dict)):
                return receiver.get(positional[0], positional[1] if len(positional) > 1 else None)
            if name == "update" and positional and isinstance(positional[0], dict):
                receiver.update(positional[0])
                return None
            return Unknown(f"`dict.{name}(...)`")
        if isinstance(receiver, TensorVal):
            return receiver if name in _IDENTITY_METHODS else TensorVal(None)
        if isinstance(receiver, Instance):
            return self.instance_method(frame, receiver, name, positional, keywords)
        return Unknown(f"`.{name}(...)`")

    def instance_method(self, frame: Frame, receiver: Instance, name: str, positional: list[Any], keywords: dict[str, Any]) -> Any:
        info = receiver.resolved().info
        found = _find_method(info, name) if info is not None else None
        if found is not None:
            function, owner = found
            if _is_static_method(function):
                return self.call_function(owner.model, function, positional, keywords, owner=owner)
            implicit = ClassRef(info) if _is_class_method(function) else receiver
            return self.call_function(owner.model, function, positional, keywords, implicit=implicit,
                                      instance=receiver if implicit is receiver else None, owner=owner)
        if name in _IDENTITY_METHODS:
            return receiver
        qualname = receiver.resolved().qualname
        if name in ("append",) and positional:
            self.add_child(receiver, str(len(receiver.resolved().children)), positional[0])
            return receiver
        if name == "extend" and positional:
            self.container_extend(receiver, positional[0])
            return receiver
        if name == "insert" and len(positional) == 2:
            self.add_child(receiver, f"insert{len(receiver.resolved().children)}", positional[1])
            return None
        if name in ("add_module", "register_module", "register_parameter") and len(positional) >= 2:
            key = positional[0] if isinstance(positional[0], str) else f"?{len(receiver.resolved().children)}"
            if qualname in _CONTAINERS or receiver.resolved().kind == "container":
                self.add_child(receiver, key, positional[1])
            else:
                value = positional[1]
                if isinstance(value, Instance) or value is None:
                    receiver.register(key, value)
                else:
                    receiver.make_writable()
                    receiver.missing.append(f"`{receiver.label}.{name}({describe(positional[0])}, ...)`: {_reason(value, 'the value is not static')}")
            return None
        if name == "register_buffer":
            return None
        return Unknown(f"`{receiver.label}.{name}(...)`")

    def call_super(self, sup: SuperRef, name: str, positional: list[Any], keywords: dict[str, Any]) -> Any:
        """``super().name(...)``: the next definition after `sup.owner` in the instance's
        class lineage; for ``__init__`` past the file's classes, the external bases."""
        instance = sup.instance
        info = instance.resolved().info or sup.owner
        lineage = info.lineage()
        try:
            start = lineage.index(sup.owner) + 1
        except ValueError:
            start = len(lineage)
        for ancestor in lineage[start:]:
            if name in ancestor.methods:
                function = ancestor.methods[name]
                return self.call_function(ancestor.model, function, positional, keywords, implicit=instance,
                                          instance=instance, owner=ancestor)
        if name == "__init__":
            self.external_init(sup.owner, instance, positional, keywords)
            return None
        return Unknown(f"`super().{name}(...)`")

    def call_builtin(self, frame: Frame, name: str, positional: list[Any], keywords: dict[str, Any]) -> Any:
        if name == "super":
            if frame.owner is not None and frame.instance is not None:
                return SuperRef(frame.owner, frame.instance)
            if positional and len(positional) == 2 and isinstance(positional[0], ClassRef) and isinstance(positional[1], Instance):
                return SuperRef(positional[0].info, positional[1])
            return Unknown("`super()` outside a method")
        if name == "setattr" and len(positional) == 3 and isinstance(positional[0], Instance):
            key = positional[1] if isinstance(positional[1], str) else f"?{len(positional[0].resolved().children)}"
            positional[0].register(key, positional[2])
            return None
        if name == "getattr" and len(positional) >= 2 and isinstance(positional[1], str):
            value = self.attribute(frame, positional[0], positional[1])
            if isinstance(value, Unknown) and len(positional) == 3:
                return positional[2]
            return value
        if name == "print":
            return None
        if name == "isinstance" or name == "hasattr":
            return Unknown(f"`{name}(...)`")
        if name == "range":
            if not positional or not all(isinstance(v, int) and not isinstance(v, bool) for v in positional) or len(positional) > 3:
                return _unknown_from(next((v for v in positional if isinstance(v, Unknown)), None), "the bounds of `range(...)`")
            try:
                result = range(*positional)
            except ValueError:
                return Unknown("`range(...)`")
            if len(result) > _MAX_SEQUENCE:
                raise BudgetExceeded("a range too long to follow")
            return result
        if name in ("list", "tuple"):
            if not positional:
                return [] if name == "list" else ()
            items = _iterate(positional[0])
            if items is None:
                return _unknown_from(positional[0], f"`{name}(...)`")
            return list(items) if name == "list" else tuple(items)
        if name == "dict":
            result: dict[Any, Any] = {}
            if positional:
                source = positional[0]
                if isinstance(source, dict):
                    result.update(source)
                else:
                    items = _iterate(source)
                    if items is None:
                        return _unknown_from(source, "`dict(...)`")
                    for pair in items:
                        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not is_static(pair[0]):
                            return Unknown("`dict(...)`")
                        result[pair[0]] = pair[1]
            result.update(keywords)
            return result
        if name in ("zip", "enumerate", "reversed", "sorted", "map"):
            lists = [_iterate(v) for v in positional]
            if any(items is None for items in lists):
                return _unknown_from(next((v for v in positional if _iterate(v) is None), None), f"`{name}(...)`")
            if name == "zip":
                return [tuple(t) for t in zip(*lists)]  # type: ignore[arg-type]
            if name == "enumerate":
                start = positional[1] if len(positional) > 1 and isinstance(positional[1], int) else keywords.get("start", 0)
                return [(i + start, v) for i, v in enumerate(lists[0])] if lists else Unknown("`enumerate()`")  # type: ignore[operator]
            if name == "reversed":
                return list(reversed(lists[0])) if lists else Unknown("`reversed()`")  # type: ignore[arg-type]
            if name == "sorted":
                try:
                    return sorted(lists[0]) if lists and all(is_static(v) for v in lists[0]) else Unknown("`sorted(...)`")  # type: ignore[union-attr]
                except TypeError:
                    return Unknown("`sorted(...)`")
            return Unknown("`map(...)`")
        if name == "len":
            items = _iterate(positional[0]) if positional else None
            if items is None and positional and isinstance(positional[0], Instance):
                return len(positional[0].resolved().children)
            return len(items) if items is not None else _unknown_from(positional[0] if positional else None, "`len(...)`")
        numbers = positional
        if any(isinstance(v, Unknown) for v in numbers):
            return next(v for v in numbers if isinstance(v, Unknown))
        try:
            if name == "int" and len(numbers) == 1 and isinstance(numbers[0], (int, float, str)):
                return int(numbers[0])
            if name == "float" and len(numbers) == 1 and isinstance(numbers[0], (int, float, str)):
                return float(numbers[0])
            if name == "bool" and len(numbers) == 1 and is_static(numbers[0]):
                return bool(numbers[0])
            if name == "str" and len(numbers) == 1 and is_static(numbers[0]):
                return str(numbers[0])
            if name in ("max", "min", "sum", "any", "all"):
                items = numbers if len(numbers) > 1 else (_iterate(numbers[0]) if numbers else None)
                if items is None or not all(is_static(v) for v in items):
                    return Unknown(f"`{name}(...)`")
                return {"max": max, "min": min, "sum": sum, "any": any, "all": all}[name](items)
            if name == "abs" and len(numbers) == 1 and isinstance(numbers[0], (int, float)):
                return abs(numbers[0])
            if name == "round" and numbers and isinstance(numbers[0], (int, float)):
                return round(*numbers)
            if name == "divmod" and len(numbers) == 2:
                return divmod(*numbers)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            pass
        return Unknown(f"`{name}(...)`")


# --------------------------------------------------------------------------- helpers


def _body(block: cst.CSTNode) -> Iterable[cst.CSTNode]:
    if isinstance(block, cst.IndentedBlock):
        return block.body
    if isinstance(block, cst.SimpleStatementSuite):
        return (block,)
    return getattr(block, "body", ())


def _truth(value: Any) -> bool | None:
    if isinstance(value, Unknown):
        return None
    if is_static(value) or isinstance(value, range):
        return bool(value)
    if isinstance(value, (Instance, ClassRef, FuncRef, Ref, TensorVal)):
        return True  # a module, class or function object is truthy (a tensor would raise)
    return None


def _iterate(value: Any) -> list[Any] | None:
    if isinstance(value, (list, tuple, range)):
        return list(value)
    if isinstance(value, str):
        return list(value)
    if isinstance(value, dict):
        return list(value.keys())
    if isinstance(value, Instance) and value.resolved().kind == "container":
        return list(value.resolved().children.values())
    return None


def _unknown_from(value: Any, fallback: str) -> Unknown:
    found = first_unknown(value) if value is not None else None
    return found if found is not None else Unknown(fallback)


def _reason(value: Any, fallback: str) -> str:
    found = first_unknown(value) if value is not None else None
    return f"{found.reason} is not static" if found is not None else fallback


def _memo_key(value: Any) -> Any:
    """A hashable key standing for a call argument, or None when it cannot be memoised (a
    module instance passed in: two constructions share it)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, Unknown):
        return ("unknown", value.reason)
    if isinstance(value, (tuple, list)):
        inner = tuple(_memo_key(v) for v in value)
        return None if any(k is None for k in inner) else (type(value).__name__, inner)
    if isinstance(value, (Ref, Builtin)):
        return ("ref", value)
    if isinstance(value, ClassRef):
        return ("class", id(value.info.node))
    if isinstance(value, FuncRef):
        return ("function", id(value.node))
    return None


def _find_method(info: "ClassInfo | None", name: str) -> tuple[cst.FunctionDef, "ClassInfo"] | None:
    if info is None:
        return None
    for ancestor in info.lineage():
        found = ancestor.methods.get(name)
        if found is not None:
            return found, ancestor
    return None


def _external_bases(info: "ClassInfo") -> list[str]:
    """Base names of `info`'s own bases that are not classes of its file (its same-file bases
    are followed by `call_super` through the lineage)."""
    same_file = {b.name for b in info.same_file_bases}
    return [name for name in info.base_names if name and name not in same_file]


def _decorated(function: cst.FunctionDef, name: str) -> bool:
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == name for d in function.decorators)


def _is_static_method(function: cst.FunctionDef) -> bool:
    return _decorated(function, "staticmethod")


def _is_class_method(function: cst.FunctionDef) -> bool:
    return _decorated(function, "classmethod")


def _function_of_param(model: "SemanticModel", param: cst.CSTNode) -> cst.FunctionDef | None:
    for ancestor in model.ancestors(param):
        if isinstance(ancestor, cst.FunctionDef):
            return ancestor
        if isinstance(ancestor, cst.Lambda):
            return None
    return None


def _short(qualname: str) -> str:
    """``torch.nn.Linear`` -> ``nn.Linear``; other names unchanged."""
    return qualname[len("torch."):] if qualname.startswith("torch.nn.") else qualname


def _code(model: "SemanticModel", node: cst.CSTNode, limit: int = 60) -> str:
    try:
        text = model.module.code_for_node(node)
    except Exception:  # a node of another tree
        return "…"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call_label(model: "SemanticModel", node: cst.Call | None, qualname: str) -> str:
    if node is None:
        return _short(qualname)
    return _code(model, node)


_MODULE_WORDS = ("layer", "block", "norm", "act", "module", "conv", "linear", "embed", "mlp", "attn", "attention", "head",
                 "build", "make", "create", "encoder", "decoder", "net", "model", "stem", "proj")


def _may_build_module(func: cst.BaseExpression, callee: Any) -> bool:
    """Whether a call whose value is not known may have built a module: a CamelCase callee
    (a class), or a callee named like a layer factory (``norm_layer``, ``block_fn``,
    ``make_layer``) -- not ``int(...)`` or ``config.get(...)``."""
    if isinstance(callee, (Builtin,)) or (isinstance(callee, Ref) and callee.qualname.startswith(("torch.", "math.", "numpy."))
                                          and not callee.qualname.startswith("torch.nn.")):
        return False
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    if not name:
        return False
    if name[:1].isupper():
        return True
    lowered = name.lower()
    if lowered.startswith(("use_", "is_", "has_", "should_", "get_num", "num_")):
        return False  # predicates and counts
    return any(word in lowered for word in _MODULE_WORDS)


def _builds_modules(model: "SemanticModel", block: cst.CSTNode) -> bool:
    """Whether a block contains a call that may construct a module or register one (a
    ``torch.nn`` constructor, a class of the file, ``append``/``add_module``/``setattr``)."""
    from ..semantic.walk import walk_postorder

    for node in walk_postorder(block, stop=(cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("append", "extend", "add_module", "register_module", "register_parameter", "insert"):
            return True
        if isinstance(func, cst.Name) and func.value == "setattr":
            return True
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name is not None:
            # Constructors are CamelCase: torch.nn layers, or classes imported from elsewhere.
            last = name.rsplit(".", 1)[-1]
            if last[:1].isupper() and (name.startswith("torch.nn.") or not name.startswith("torch.")):
                return True
        elif isinstance(func, cst.Name) and (func.value in model.classes_by_name or func.value[:1].isupper()):
            return True
    return False


def _tensor(qualname: str, positional: list[Any], keywords: dict[str, Any]) -> TensorVal:
    def shape_of(values: list[Any]) -> tuple[int, ...] | None:
        if len(values) == 1 and isinstance(values[0], (tuple, list)):
            values = list(values[0])
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            return tuple(values)
        return None

    if qualname in ("torch.zeros", "torch.ones", "torch.empty", "torch.rand", "torch.randn", "torch.Tensor", "torch.FloatTensor"):
        size = keywords.get("size")
        return TensorVal(shape_of([size] if size is not None else positional))
    if qualname == "torch.randint":
        size = keywords.get("size", positional[-1] if positional else None)
        return TensorVal(shape_of([size]) if isinstance(size, (tuple, list)) else None)
    if qualname == "torch.full":
        size = keywords.get("size", positional[0] if positional else None)
        return TensorVal(shape_of([size]) if isinstance(size, (tuple, list)) else None)
    if qualname == "torch.eye":
        rows = positional[0] if positional else keywords.get("n")
        cols = positional[1] if len(positional) > 1 else keywords.get("m", rows)
        return TensorVal((rows, cols) if isinstance(rows, int) and isinstance(cols, int) else None)
    if qualname == "torch.arange":
        if positional and all(isinstance(v, int) for v in positional) and len(positional) <= 3:
            return TensorVal((len(range(*positional)),))
        return TensorVal(None)
    if qualname == "torch.linspace":
        steps = positional[2] if len(positional) > 2 else keywords.get("steps")
        return TensorVal((steps,) if isinstance(steps, int) else None)
    if qualname == "torch.tensor":
        data = positional[0] if positional else keywords.get("data")
        shape: list[int] = []
        current = data
        while isinstance(current, (list, tuple)):
            shape.append(len(current))
            if not current:
                break
            current = current[0]
        if isinstance(current, (int, float, bool)) or (isinstance(current, (list, tuple)) and not current):
            return TensorVal(tuple(shape))
        return TensorVal(None)
    return TensorVal(None)


def _math(qualname: str, positional: list[Any]) -> Any:
    name = qualname[len("math."):]
    if not positional or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in positional if not isinstance(v, (list, tuple))):
        return _unknown_from(next((v for v in positional if isinstance(v, Unknown)), None), f"`{qualname}(...)`")
    try:
        if name == "prod":
            items = positional[0]
            return math.prod(items) if isinstance(items, (list, tuple)) and all(isinstance(v, (int, float)) for v in items) else Unknown("`math.prod(...)`")
        function = {"ceil": math.ceil, "floor": math.floor, "sqrt": math.sqrt, "log2": math.log2, "log": math.log,
                    "gcd": math.gcd, "isqrt": math.isqrt, "exp": math.exp}.get(name)
        if function is not None:
            return function(*positional)
    except (TypeError, ValueError, OverflowError):
        pass
    return Unknown(f"`{qualname}(...)`")


__all__ = ["Evaluator", "BudgetExceeded", "Frame", "docs_url"]
