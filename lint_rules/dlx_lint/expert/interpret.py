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
import time
from typing import Any, Iterable, TYPE_CHECKING

import libcst as cst

from ..semantic.names import canonical, dotted_name, import_alias_qualname
from .layers import TENSOR_SIZES, NotStatic, Arguments
from .support import (
    BUILTINS,
    BudgetExceeded,
    Frame,
    _AUGMENTED,
    _BINARY,
    _Break,
    _COMPARE,
    _Continue,
    _IDENTITY_METHODS,
    _MAX_LOOP,
    _MAX_SEQUENCE,
    _Return,
    _body,
    _builds_modules,
    _code,
    _find_method,
    _function_of_param,
    _is_class_method,
    _is_static_method,
    _iterate,
    _truth,
    _unknown_from,
)
from .calls import CallsMixin
from .pybuiltins import BuiltinsMixin
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


class Evaluator(CallsMixin, BuiltinsMixin):
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
            self.skipped(frame, node.body, "a `while` loop")
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



__all__ = ["BudgetExceeded", "Evaluator", "Frame"]
