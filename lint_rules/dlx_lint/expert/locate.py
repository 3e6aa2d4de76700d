"""What an expert hover can be about, and where it sits in the file.

`HoverTargets` collects, once per parsed file, the nodes a hover may explain -- the callee
name of every call (``Linear`` in ``nn.Linear(...)``, ``Net`` in ``Net()``), the name of every
class definition, the local name of every import, and annotations and call arguments that name
something (``model: Net``, ``isinstance(m, nn.BatchNorm2d)``) -- and their positions, with one
code-generation pass (`dlx_lint.positions.compute_spans`). `at` then answers a cursor position
in microseconds, so a client hovering around a file pays the pass once per version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from ..positions import Span, compute_spans

if TYPE_CHECKING:
    from ..semantic.model import SemanticModel


@dataclass(frozen=True)
class Target:
    """Something under the cursor.

    Attributes:
        kind: ``call`` (`node` is the Call), ``class`` (a ClassDef), ``import`` (an
            ImportAlias; `qualname` is what it binds) or ``reference`` (a Name/Attribute
            expression in an annotation or argument).
        node: the node the hover is about.
        anchor: the node whose span is the hover's range (a name).
        span: (start_row, start_col, end_row, end_col): rows 1-based, columns 0-based code
            points, end exclusive.
        qualname: for imports, the qualified name bound.
    """

    kind: str
    node: cst.CSTNode
    anchor: cst.CSTNode
    span: Span
    qualname: str | None = None


class HoverTargets:
    """Hoverable nodes of one file with their spans (see module docstring).

    Args:
        model: the file's semantic model.
    """

    def __init__(self, model: "SemanticModel") -> None:
        self.model = model
        pending: list[tuple[str, cst.CSTNode, cst.CSTNode, str | None]] = []
        for call in model.calls:
            func = call.func
            if isinstance(func, cst.Attribute):
                pending.append(("call", call, func.attr, None))
            elif isinstance(func, cst.Name):
                pending.append(("call", call, func, None))
            for arg in call.args:
                if isinstance(arg.value, (cst.Name, cst.Attribute)) and arg.value is not func:
                    pending.append(("reference", arg.value, arg.value, None))
        for classdef in model.classdefs:
            pending.append(("class", classdef, classdef.name, None))
        seen_imports: set[int] = set()
        for scope in model.scopes.values():
            for bindings in scope.bindings.values():
                for binding in bindings:
                    if binding.kind == "import" and id(binding.node) not in seen_imports:
                        seen_imports.add(id(binding.node))
                        pending.extend(_import_targets(binding.node))
                    elif binding.annotation is not None and isinstance(binding.annotation, (cst.Name, cst.Attribute, cst.Subscript)):
                        annotation = binding.annotation
                        if isinstance(annotation, cst.Subscript):  # Optional[Net]
                            for element in annotation.slice:
                                inner = element.slice
                                if isinstance(inner, cst.Index) and isinstance(inner.value, (cst.Name, cst.Attribute)):
                                    pending.append(("reference", inner.value, inner.value, None))
                        else:
                            pending.append(("reference", annotation, annotation, None))
        spans = compute_spans(model.module, [anchor for _, _, anchor, _ in pending])
        self.targets: list[Target] = []
        self._by_row: dict[int, list[Target]] = {}
        for kind, node, anchor, qualname in pending:
            span = spans.get(anchor)
            if span is None:
                continue
            target = Target(kind, node, anchor, span, qualname)
            self.targets.append(target)
            for row in range(span[0], span[2] + 1):
                self._by_row.setdefault(row, []).append(target)

    def at(self, row: int, column: int) -> Target | None:
        """The innermost target whose span holds the position (row 1-based, column 0-based in
        code points; the position just after a name counts, as editors place the cursor there)."""
        best: Target | None = None
        best_size = None
        for target in self._by_row.get(row, ()):
            start_row, start_col, end_row, end_col = target.span
            if (row, column) < (start_row, start_col) or (row, column) > (end_row, end_col):
                continue
            size = (end_row - start_row, end_col - start_col if end_row == start_row else end_col)
            if best is None or size < best_size:  # type: ignore[operator]
                best, best_size = target, size
        return best

    def of_kind(self, kind: str) -> list[Target]:
        """Every target of one kind, in source order."""
        return [t for t in self.targets if t.kind == kind]


def _import_targets(statement: cst.CSTNode) -> list[tuple[str, cst.CSTNode, cst.CSTNode, str | None]]:
    from ..semantic.names import dotted_name, import_alias_qualname

    found = []
    if isinstance(statement, cst.Import):
        for alias in statement.names:
            _local, qualname = import_alias_qualname(alias, None, 0)
            found.append(("import", alias, _anchor(alias), dotted_name(alias.name) if alias.asname is None else qualname))
    elif isinstance(statement, cst.ImportFrom) and not isinstance(statement.names, cst.ImportStar):
        module = dotted_name(statement.module) if statement.module is not None else None
        for alias in statement.names:
            _local, qualname = import_alias_qualname(alias, module, len(statement.relative))
            found.append(("import", alias, _anchor(alias), qualname))
    return found


def _anchor(alias: cst.ImportAlias) -> cst.CSTNode:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name
    name = alias.name
    return name.attr if isinstance(name, cst.Attribute) else name
