"""Scopes and bindings: where each name (or ``self.attr`` path) gets its value.

A scope is the module, a function, a lambda or a class body. Each scope records, in source
order, every binding of a name or access path inside it (assignments, ``for`` targets,
``with ... as``, imports, parameters, nested ``def``/``class``), and which methods are called
on each access path (``opt.step()`` adds ``step`` to the uses of ``opt``). Both are filled by
the semantic model's single walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from .classes import ClassInfo


@dataclass(slots=True)
class Binding:
    """One place where `target` gets a value.

    Attributes:
        target: a name (``opt``) or access path (``self.opt``).
        kind: ``assign``, ``annassign``, ``augassign``, ``for``, ``with``, ``import``,
            ``param``, ``def``, ``class``, ``walrus``, ``except``, ``global``.
        value: the expression assigned (the iterable for ``for``, the context expression for
            ``with``, the default for ``param``), or None.
        node: the statement (or parameter, alias, def) that binds.
        unpack: index path into the value when the target sits in a tuple/list pattern.
        annotation: the annotation expression, for parameters and annotated assignments.
        qualname: for imports, the qualified name bound.
    """

    target: str
    kind: str
    value: cst.BaseExpression | None
    node: cst.CSTNode
    unpack: tuple[int, ...] = ()
    annotation: cst.BaseExpression | None = None
    qualname: str | None = None


@dataclass(eq=False, repr=False)
class Scope:
    """A module, function, lambda or class body.

    Attributes:
        node: the ``Module``, ``FunctionDef``, ``Lambda`` or ``ClassDef``.
        kind: ``module``, ``function``, ``lambda`` or ``class``.
        parent: enclosing scope (None for the module).
        bindings: target -> bindings in source order.
        uses: access path -> names of methods called on it (``__call__`` when it is called).
        params: parameter name -> ``Param`` node, in declaration order.
        owner_class: for a method, the class it is defined in.
        self_name: for a method, the name of its first parameter (usually ``self``).
    """

    node: cst.CSTNode
    kind: str
    parent: "Scope | None"
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    uses: dict[str, set[str]] = field(default_factory=dict)
    params: dict[str, cst.Param] = field(default_factory=dict)
    owner_class: "ClassInfo | None" = None
    self_name: str | None = None
    children: list["Scope"] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Scope({self.kind} {self.name})"

    @property
    def name(self) -> str:
        if isinstance(self.node, (cst.FunctionDef, cst.ClassDef)):
            return self.node.name.value
        return "<module>" if self.kind == "module" else "<lambda>"

    def add(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.target, []).append(binding)

    def use(self, path: str, method: str) -> None:
        self.uses.setdefault(path, set()).add(method)

    def lookup_chain(self) -> "list[Scope]":
        """This scope and its enclosing scopes in name-resolution order (class bodies are
        skipped for code nested in them, as in Python)."""
        chain = [self]
        scope = self.parent
        while scope is not None:
            if scope.kind != "class":
                chain.append(scope)
            scope = scope.parent
        return chain

    def body(self) -> tuple[cst.CSTNode, ...]:
        """The statements of the scope's body (a lambda has none)."""
        node = self.node
        if isinstance(node, cst.Module):
            return tuple(node.body)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            body = node.body
            if isinstance(body, cst.IndentedBlock):
                return tuple(body.body)
            return (body,)  # SimpleStatementSuite
        return ()

    @property
    def is_function(self) -> bool:
        return self.kind in ("function", "lambda")
