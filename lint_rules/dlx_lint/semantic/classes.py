"""Classes defined in the file: their bases, methods and ``self.<attr>`` bindings.

A class is an ``nn.Module`` subclass when one of its bases, followed through same-file
classes, is a ``torch.nn`` class or a well-known module base from another library
(Lightning's ``LightningModule``, transformers' ``PreTrainedModel``, diffusers' ``ModelMixin``).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import libcst as cst

from .names import dotted_name
from .scopes import Binding

if TYPE_CHECKING:
    from .model import SemanticModel

_TORCH_NN_CLASS = re.compile(r"^torch\.nn\.(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*$")
_NOT_MODULE_NN = frozenset({"torch.nn.Parameter", "torch.nn.UninitializedParameter", "torch.nn.Buffer"})
# Module bases outside torch.nn, matched on the last component because they are often imported
# relatively inside their own package (``from ...modeling_utils import PreTrainedModel``).
_MODULE_BASE_SUFFIXES = ("LightningModule", "PreTrainedModel", "ModelMixin", "ScriptModule")
_KNOWN_NON_MODULE = frozenset({"object", "Generic", "Protocol", "ABC", "Enum", "NamedTuple", "Exception", "dict", "list", "tuple"})
_KNOWN_NON_MODULE_PREFIXES = ("typing.", "abc.", "enum.", "collections.", "dataclasses.", "torch.autograd.",
                              "torch.optim.", "torch.utils.data.", "builtins.")
_LIGHTNING = frozenset({"pytorch_lightning.LightningModule", "pytorch_lightning.core.LightningModule"})


class ClassInfo:
    """One class of the file.

    Attributes:
        node: the ClassDef.
        name: its name.
        methods: method name -> FunctionDef, for methods defined directly in the body.
    """

    def __init__(self, model: "SemanticModel", node: cst.ClassDef):
        self.model = model
        self.node = node
        self.name = node.name.value
        self.methods: dict[str, cst.FunctionDef] = {}
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for statement in body:
            if isinstance(statement, cst.FunctionDef):
                self.methods[statement.name.value] = statement

    def __repr__(self) -> str:
        return f"ClassInfo({self.name})"

    @functools.cached_property
    def base_names(self) -> tuple[str, ...]:
        """Qualified names of the bases (dotted text when not resolvable)."""
        model = self.model
        outer = model.scope_for(self.node)
        names = []
        for arg in self.node.bases:
            if arg.keyword is not None:
                continue
            value = arg.value
            if isinstance(value, cst.Subscript):  # Generic[T], nn.Module[...] are rare but legal
                value = value.value
            qualified = model.qualname(value, outer)
            names.append(qualified or dotted_name(value) or "")
        return tuple(names)

    @functools.cached_property
    def same_file_bases(self) -> tuple["ClassInfo", ...]:
        """Bases that are classes of this file."""
        result = []
        for arg in self.node.bases:
            name = dotted_name(arg.value)
            if name is None or "." in name:
                continue
            if self.model.qualname(arg.value) is not None:  # imported, not defined here
                continue
            info = self.model.classes_by_name.get(name)
            if info is not None and info is not self:
                result.append(info)
        return tuple(result)

    def lineage(self) -> list["ClassInfo"]:
        """This class and its same-file ancestors, nearest first (cycles cut)."""
        seen: list[ClassInfo] = []
        stack = [self]
        while stack:
            info = stack.pop(0)
            if info in seen:
                continue
            seen.append(info)
            stack.extend(info.same_file_bases)
        return seen

    def external_base_names(self) -> list[str]:
        """Base names of the whole lineage that are not classes of this file."""
        same_file = {b.name for info in self.lineage() for b in info.same_file_bases}
        names = []
        for info in self.lineage():
            for name in info.base_names:
                if name and name not in same_file:
                    names.append(name)
        return names

    @functools.cached_property
    def is_module(self) -> bool:
        """Whether the class derives from ``torch.nn.Module`` (or a known module base), or,
        deriving from a class defined elsewhere whose kind is unknown, defines ``forward``
        (transformers' modular files subclass models imported from other model files)."""
        external = self.external_base_names()
        for name in external:
            if name in _NOT_MODULE_NN:
                continue
            if _TORCH_NN_CLASS.match(name):
                return True
            if name.rsplit(".", 1)[-1].endswith(_MODULE_BASE_SUFFIXES):
                return True
        unknown_bases = [n for n in external if not n.startswith(_KNOWN_NON_MODULE_PREFIXES) and n not in _KNOWN_NON_MODULE]
        return bool(unknown_bases) and self.method("forward") is not None

    @functools.cached_property
    def is_lightning_module(self) -> bool:
        """Whether the class derives from Lightning's ``LightningModule``."""
        return any(n in _LIGHTNING or n.rsplit(".", 1)[-1] == "LightningModule" for n in self.external_base_names())

    @functools.cached_property
    def is_autograd_function(self) -> bool:
        """Whether the class derives from ``torch.autograd.Function``."""
        return any(n in ("torch.autograd.Function", "torch.autograd.function.Function") for n in self.external_base_names())

    @functools.cached_property
    def is_optimizer(self) -> bool:
        """Whether the class derives from ``torch.optim.Optimizer``."""
        return any(n in ("torch.optim.Optimizer", "torch.optim.optimizer.Optimizer") for n in self.external_base_names())

    @functools.cached_property
    def is_loss(self) -> bool:
        """A module whose name or base says it is a loss (``...Loss``, ``torch.nn._Loss``)."""
        if not self.is_module:
            return False
        if self.name.endswith(("Loss", "Criterion")):
            return True
        return any(n.endswith(("Loss", "._Loss")) for n in self.external_base_names())

    def method(self, name: str) -> cst.FunctionDef | None:
        """A method by name, looked up through same-file bases."""
        for info in self.lineage():
            found = info.methods.get(name)
            if found is not None:
                return found
        return None

    def attr_bindings(self, attr: str) -> list[Binding]:
        """Every ``self.<attr> = ...`` (in any method of the lineage) and class-body binding."""
        return self._attr_index().get(attr, [])

    def attr_uses(self, attr: str) -> set[str]:
        """Methods called on ``self.<attr>`` anywhere in the class's methods."""
        return self._use_index().get(attr, set())

    def _attr_index(self) -> dict[str, list[Binding]]:
        return self.model.cached(("attr-index", self.node), self._build_attr_index)

    def _build_attr_index(self) -> dict[str, list[Binding]]:
        index: dict[str, list[Binding]] = {}
        for info in self.lineage():
            class_scope = self.model.scopes[info.node]
            for target, bindings in class_scope.bindings.items():
                if "." not in target and bindings[0].kind not in ("def",):
                    index.setdefault(target, []).extend(bindings)
            for method in info.methods.values():
                scope = self.model.scopes[method]
                prefix = (scope.self_name or "\0") + "."
                for target, bindings in scope.bindings.items():
                    if target.startswith(prefix) and bindings[0].kind != "param":
                        index.setdefault(target[len(prefix):], []).extend(bindings)
        return index

    def _use_index(self) -> dict[str, set[str]]:
        def build() -> dict[str, set[str]]:
            index: dict[str, set[str]] = {}
            for info in self.lineage():
                for method in info.methods.values():
                    scope = self.model.scopes[method]
                    prefix = (scope.self_name or "\0") + "."
                    scopes = [scope] + _descendant_function_scopes(scope)
                    for sub in scopes:
                        for path, methods in sub.uses.items():
                            if path.startswith(prefix):
                                index.setdefault(path[len(prefix):], set()).update(methods)
            return index

        return self.model.cached(("use-index", self.node), build)


def _descendant_function_scopes(scope) -> list:
    result = []
    stack = list(scope.children)
    while stack:
        child = stack.pop()
        if child.kind in ("function", "lambda"):
            result.append(child)
            stack.extend(child.children)
    return result


def build_classes(model: "SemanticModel") -> dict[cst.ClassDef, ClassInfo]:
    """ClassInfo for every ClassDef of the model."""
    return {node: ClassInfo(model, node) for node in model.classdefs}
