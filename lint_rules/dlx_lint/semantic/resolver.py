"""The narrow hook through which the semantic model sees definitions in other files.

A `Resolver` answers one question: which class or function of the workspace does the
qualified name of an import denote (``models.build_model`` from ``from models import
build_model``, ``.utils.make_optimizer`` for a relative import)? It returns the definition
together with a `SemanticModel` of the file holding it, so callers analyse that definition
with the same machinery as same-file code (`kinds.returned_origin`, `ClassInfo.is_module`,
the expert interpreter).

The engine never needs a resolver: `SemanticModel(resolver=None)` (the default) keeps every
analysis to its own file. `dlx_lint.crossfile.WorkspaceResolver` implements it with jedi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Union

import libcst as cst

if TYPE_CHECKING:
    from .model import SemanticModel


@dataclass(frozen=True)
class Definition:
    """A class or function defined in a workspace file.

    Attributes:
        model: the semantic model of that file (with the same resolver, so chains of imports
            are followed, within the resolver's limits).
        node: the ``ClassDef`` or ``FunctionDef`` in `model`'s tree.
        path: the file's path.
    """

    model: "SemanticModel"
    node: Union[cst.ClassDef, cst.FunctionDef]
    path: str


class Resolver(Protocol):
    """Finds workspace definitions of imported names."""

    def definition(self, model: "SemanticModel", qualname: str) -> Definition | None:
        """The class or function that `qualname` (a name imported by `model`'s file, as
        `SemanticModel.qualname` spells it) denotes in the workspace, or None when it is not
        defined in the workspace, cannot be found within the time limit, or is not a class or
        function. Must never execute user code."""
        ...
