"""Calls in the construction interpreter: ``torch.nn`` constructors (layers with a formula,
containers, Transformer stacks, ``nn.Parameter``), workspace classes (``__init__`` with
``super()``, inherited layer bases, config-like classes), functions and methods with their
arguments bound, and the list/dict/module methods that register submodules."""

from __future__ import annotations

from typing import Any, TYPE_CHECKING

import libcst as cst

from ..semantic.names import canonical
from .layers import LAYERS, NotStatic, Arguments, bind, is_parameter_free
from .support import (
    Frame,
    _Break,
    _CONTAINERS,
    _Continue,
    _IDENTITY_METHODS,
    _MAX_DEPTH,
    _PARAMETER,
    _Return,
    _SIZE_FACTORIES,
    _body,
    _call_label,
    _code,
    _external_bases,
    _find_method,
    _is_class_method,
    _is_static_method,
    _iterate,
    _may_build_module,
    _memo_key,
    _reason,
    _short,
    _unknown_from,
)
from .pybuiltins import math_call, tensor_value
from .values import (
    Builtin,
    BoundMethod,
    ClassRef,
    FuncRef,
    Instance,
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


class CallsMixin:
    """The call half of `dlx_lint.expert.interpret.Evaluator`."""

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
            return tensor_value(qualname, positional, keywords)
        if qualname == "torch.Size":
            return tuple(positional[0]) if positional and isinstance(positional[0], (list, tuple)) else Unknown("a size")
        if qualname.startswith("math."):
            return math_call(qualname, positional)
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

