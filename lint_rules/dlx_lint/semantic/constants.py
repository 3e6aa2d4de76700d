"""Values of names defined once in a file: literals and argparse defaults (clause 8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .dataflow import constant_value
from .names import dotted_name

if TYPE_CHECKING:
    from .model import SemanticModel


def single_definition_value(model: "SemanticModel", expr: cst.BaseExpression) -> float | None:
    """The numeric value of `expr` when it is a constant expression, a name whose only
    definition in the file is one, or an attribute ``args.x`` matched by a single
    ``add_argument("--x", default=<literal>)`` in the file; None when unknown."""
    value = constant_value(model, expr)
    if value is not None:
        return value
    path = dotted_name(expr)
    if path is None or "." not in path:
        return None
    attribute = path.rsplit(".", 1)[-1]
    defaults = argparse_defaults(model).get(attribute)
    if defaults is not None and len(defaults) == 1:
        return defaults[0]
    return None


def argparse_defaults(model: "SemanticModel") -> dict[str, list[float]]:
    """Destination name -> numeric literal defaults of ``add_argument`` calls in the file."""
    def compute() -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for call in model.calls_by_attr.get("add_argument", []):
            destination = None
            default = None
            for arg in call.args:
                if arg.keyword is None and isinstance(arg.value, cst.SimpleString) and destination is None:
                    text = arg.value.evaluated_value
                    if isinstance(text, str) and text.startswith("--"):
                        destination = text[2:].replace("-", "_")
                elif arg.keyword is not None and arg.keyword.value == "dest" and isinstance(arg.value, cst.SimpleString):
                    destination = arg.value.evaluated_value if isinstance(arg.value.evaluated_value, str) else destination
                elif arg.keyword is not None and arg.keyword.value == "default":
                    default = constant_value(model, arg.value)
            if destination and default is not None:
                found.setdefault(destination, []).append(default)
        return found

    return model.cached("argparse-defaults", compute)
