"""Abstract values of the static model-construction interpreter (`dlx_lint.expert.interpret`).

Plain Python constants (int, float, bool, str, None) and containers of values (tuple, list,
dict) stand for themselves. Everything else is one of the classes below: a value that is not
known statically (`Unknown`, with the reason shown to the user), a reference to something that
can be called (an imported name, a class or function of the workspace, a method bound to a
receiver), a tensor of known shape, or a module instance under construction (`Instance`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import libcst as cst

    from ..semantic.classes import ClassInfo
    from ..semantic.model import SemanticModel
    from .layers import LayerSpec


class Unknown:
    """A value that is not known statically.

    Attributes:
        reason: Markdown naming what is unknown (``\\`in_dim\\` (a parameter without a
            default)``), shown in the hover's "not static" list.
        call: the source of a call that produced it and may have built a module (a layer
            class passed as a parameter, a class imported from a module that is not
            followed); assigning it to ``self.x`` is reported, not silently dropped.
    """

    __slots__ = ("reason", "call")

    def __init__(self, reason: str, call: str | None = None) -> None:
        self.reason = reason
        self.call = call

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"


def is_static(value: Any) -> bool:
    """Whether `value` is a plain constant or a container of plain constants."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (tuple, list)):
        return all(is_static(item) for item in value)
    if isinstance(value, dict):
        return all(is_static(k) and is_static(v) for k, v in value.items())
    return False


def first_unknown(value: Any) -> "Unknown | None":
    """The first `Unknown` inside `value` (itself, or an element of a container), or None."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = first_unknown(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        for item in value.values():
            found = first_unknown(item)
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class Ref:
    """An imported (or otherwise qualified) name: ``torch.nn.Linear``, ``models.Net``."""

    qualname: str


@dataclass(frozen=True, eq=False)
class ClassRef:
    """A class defined in a file of the workspace (`info.model` is that file's model)."""

    info: "ClassInfo"


@dataclass(frozen=True, eq=False)
class FuncRef:
    """A function (or method reached through its class) defined in a workspace file.

    Attributes:
        model: the semantic model of the file defining it.
        node: its definition.
        owner: for a method, the class it is defined in.
    """

    model: "SemanticModel"
    node: "cst.FunctionDef"
    owner: "ClassInfo | None" = None


@dataclass(frozen=True, eq=False)
class BoundMethod:
    """``receiver.name`` where `receiver` is a list, dict, tensor or `Instance`."""

    receiver: Any
    name: str


@dataclass(frozen=True)
class Builtin:
    """A Python builtin (``range``, ``len``, ``super``...)."""

    name: str


@dataclass(frozen=True, eq=False)
class SuperRef:
    """``super()`` inside a method of `owner`, bound to `instance`."""

    owner: "ClassInfo"
    instance: "Instance"


@dataclass(frozen=True, eq=False)
class ParamRef:
    """A parameter tensor of a layer read as an attribute (``self.embed.weight``)."""

    owner: "Instance"
    name: str


@dataclass(frozen=True)
class TensorVal:
    """A tensor whose shape is known (``torch.zeros(1, 1, 768)``) or not (``shape`` None)."""

    shape: tuple[int, ...] | None

    @property
    def numel(self) -> int | None:
        return math.prod(self.shape) if self.shape is not None else None


class Instance:
    """A module (or an ``nn.Parameter``) built by the interpreted code.

    ``module.parameters()`` yields each parameter once, walking registered submodules; here
    every instance owns ``own`` parameter elements and registers `children` (submodules and
    parameters assigned to its attributes or added to a container). `tally` sums over the
    instances reachable from a root, each once (shared modules count once, as in PyTorch).

    Attributes:
        label: what to call it in a hover (``nn.Linear(512, 2048)``, ``Block``).
        kind: ``layer`` (a ``torch.nn`` layer with a formula), ``class`` (a workspace class),
            ``container`` (Sequential, ModuleList, ModuleDict, ParameterList...), ``parameter``
            (an ``nn.Parameter``), ``repeat`` (`times` copies of `template`: clones, or a later
            construction with the same arguments), or ``opaque`` (a module whose parameters are
            not known).
        own: parameter elements owned directly (a layer's formula, a Parameter's numel).
        children: attribute or container key -> registered submodule or parameter.
        attrs: other attribute values (read back by later statements: ``self.dim``).
        missing: reasons some of this instance's own parameters are unknown.
        spec: for a ``layer``, its formula spec.
        args: for a ``layer``, its constructor arguments by parameter name.
        notes: facts worth showing (a tied weight counted once).
        qualname: for library modules, the constructor's qualified name.
        info: for a ``class``, the workspace class.
        template, times: for a ``repeat``.
    """

    __slots__ = ("label", "kind", "own", "children", "attrs", "missing", "spec", "qualname", "info", "template", "times",
                 "args", "notes")

    def __init__(self, label: str, kind: str, *, own: int = 0, spec: "LayerSpec | None" = None, qualname: str | None = None,
                 info: "ClassInfo | None" = None, template: "Instance | None" = None, times: int = 1) -> None:
        self.label = label
        self.kind = kind
        self.own = own
        self.children: dict[str, Any] = {}
        self.attrs: dict[str, Any] = {}
        self.missing: list[str] = []
        self.spec = spec
        self.qualname = qualname
        self.info = info
        self.template = template
        self.times = times
        self.args: dict[str, Any] = {}
        self.notes: list[str] = []

    def __repr__(self) -> str:
        return f"Instance({self.label!r}, {self.kind})"

    def resolved(self) -> "Instance":
        """The instance whose contents this one shows (the template of a single copy)."""
        current = self
        while current.kind == "repeat" and current.times == 1 and current.template is not None:
            current = current.template
        return current

    def make_writable(self) -> None:
        """Turn a single copy into a real instance before it is modified, so the shared
        template (a memoised construction) is never changed."""
        if self.kind != "repeat" or self.times != 1 or self.template is None:
            return
        source = self.resolved()
        self.kind = source.kind
        self.own = source.own
        self.children = dict(source.children)
        self.attrs = dict(source.attrs)
        self.missing = list(source.missing)
        self.spec = source.spec
        self.qualname = source.qualname
        self.info = source.info
        self.args = dict(source.args)
        self.notes = list(source.notes)
        self.template = None

    def register(self, name: str, value: Any) -> None:
        """``self.<name> = value``: a module or parameter is registered, anything else is a
        plain attribute (and unregisters a module of that name, as ``nn.Module.__setattr__``
        replaces it)."""
        self.make_writable()
        if isinstance(value, Instance):
            self.attrs.pop(name, None)
            self.children[name] = value
        else:
            self.children.pop(name, None)
            self.attrs[name] = value

    def get(self, name: str) -> Any:
        """The value of attribute `name`, or a sentinel `_ABSENT`."""
        source = self.resolved()
        if name in source.children:
            return source.children[name]
        if name in source.attrs:
            return source.attrs[name]
        return _ABSENT

    def items(self) -> list[tuple[str, Any]]:
        """Registered children in order (of the resolved instance)."""
        return list(self.resolved().children.items())


_ABSENT = object()
ABSENT = _ABSENT


@dataclass
class Tally:
    """The parameter count of an instance tree.

    Attributes:
        count: parameter elements whose count is known.
        missing: reasons some parameters are not counted (empty: the count is exact).
    """

    count: int
    missing: list[str]
    notes: list[str] = None  # type: ignore[assignment]

    @property
    def exact(self) -> bool:
        return not self.missing


def tally(root: Any) -> Tally:
    """Count the parameters reachable from `root`, each instance once (by identity)."""
    if not isinstance(root, Instance):
        return Tally(0, [], [])
    seen: set[int] = set()
    count = 0
    missing: list[str] = []
    notes: list[str] = []
    stack = [root]
    while stack:
        instance = stack.pop()
        if id(instance) in seen:
            continue
        seen.add(id(instance))
        if instance.kind == "repeat" and instance.template is not None:
            inner = tally(instance.template)
            count += instance.times * inner.count
            missing.extend(inner.missing)
            notes.extend(inner.notes)
            continue
        count += instance.own
        missing.extend(instance.missing)
        notes.extend(instance.notes)
        stack.extend(value for value in reversed(list(instance.children.values())) if isinstance(value, Instance))
    return Tally(count, list(dict.fromkeys(missing)), list(dict.fromkeys(notes)))


def describe(value: Any, limit: int = 40) -> str:
    """A short rendering of a static value for assumptions (``512``, ``(3, 3)``, ``True``)."""
    if isinstance(value, Unknown):
        return "unknown"
    if isinstance(value, Instance):
        return value.label
    if isinstance(value, (Ref,)):
        return value.qualname
    if isinstance(value, ClassRef):
        return value.info.name
    if isinstance(value, FuncRef):
        return value.node.name.value
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
