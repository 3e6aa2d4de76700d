"""DLX016 nan-equality: comparing with NaN using `==`, `!=`, `is` or `is not`."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import code_of, spell
from ..fixes.spec import FixUnavailable, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.dataflow import reaching_bindings
from ..semantic.kinds import Kind

_NAN_CONSTANTS = frozenset({"math.nan", "numpy.nan", "numpy.NaN", "numpy.NAN", "torch.nan", "cmath.nan"})
_OPERATORS = (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)


class NanEquality(Rule):
    code = "DLX016"
    name = "nan-equality"
    severity = Severity.ERROR
    # Spellings of a NaN constant (not the bare word, which "maintenance" contains).
    requires = (".nan", '"nan"', "'nan'", ".NaN", '"NaN"', "'NaN'", ".NAN", '"NAN"', "'NAN'")
    summary = "comparison with NaN is always False (or always True for `!=`)"
    what = """
Reports `x == nan`, `x != nan`, `x is nan` and `x is not nan`, where `nan` is `float("nan")`,
`math.nan`, `np.nan`/`numpy.nan` or `torch.nan` (through any import alias).
"""
    why = """
IEEE 754 NaN compares unequal to everything, itself included, so `x == nan` is always `False`
and `x != nan` always `True`; a divergence check written this way never fires and training
runs on with NaN weights. `x is math.nan` is only `True` for that very object: a NaN produced
by arithmetic (`loss.item()`) is a different object. Zhang et al. list it as "NaN Equality
Misused"; dslinter's E5501 checks the NumPy form.
"""
    example = """
if loss.item() == float("nan"):
    raise RuntimeError("diverged")
"""
    use_instead = """
if math.isnan(loss.item()):       # Python float
    raise RuntimeError("diverged")
if torch.isnan(loss).any():       # tensor
    raise RuntimeError("diverged")
"""
    fix_safety = """
The fix is offered only when the file shows what the other operand is: a tensor built by
PyTorch gets `torch.isnan(x)`, a Python number (`x.item()`, `float(...)`, a `math` result)
gets `math.isnan(x)`, a NumPy value gets `np.isnan(x)`; `!=` and `is not` get `~` (tensors,
arrays) or `not` (numbers). It is safe: the comparison was constant, and the check now does
what it says. Elsewhere the message lists the three spellings and no fix is offered, because
`math.isnan` of a tensor with several elements, or `torch.isnan` of a float, raises.
"""
    limitations = "Comparisons with a variable that happens to hold NaN are not followed."
    references = (
        Reference("Python docs: math.isnan", "https://docs.python.org/3/library/math.html#math.isnan"),
        Reference("PyTorch docs: torch.isnan", "https://docs.pytorch.org/docs/stable/generated/torch.isnan.html"),
        Reference("pytorch#4767: the `x != x` idiom and torch.isnan", "https://github.com/pytorch/pytorch/issues/4767"),
        Reference("ml-smells: NaN Equality Misused", "https://hynn01.github.io/ml-smells/"),
    )
    bad_examples = (
        """
import math
import numpy as np
import torch

def diverged(loss_value, grads):
    return loss_value == float("nan") or grads is np.nan  # expect: DLX016
""",
        """
import torch

def check(t):
    if t != torch.nan:  # expect: DLX016
        return True
""",
        """
import numpy as np
import torch

def diverged(loss, scores):
    grads = torch.zeros(3)
    value = loss.item()
    flags = np.asarray(scores)
    return value == float("nan"), grads != torch.nan, flags is np.nan  # expect: DLX016
""",
    )
    fixed_examples = (
        """
import math
import numpy as np
import torch

def diverged(loss_value, grads):
    return loss_value == float("nan") or grads is np.nan  # expect: DLX016
""",
        """
import torch

def check(t):
    if t != torch.nan:  # expect: DLX016
        return True
""",
        """
import numpy as np
import torch
import math

def diverged(loss, scores):
    grads = torch.zeros(3)
    value = loss.item()
    flags = np.asarray(scores)
    return math.isnan(value), ~torch.isnan(grads), np.isnan(flags)  # expect: DLX016
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.SAFE
    good_examples = (
        """
import math
import torch

def diverged(loss):
    nan = 3.0  # a local that merely has that name
    return math.isnan(loss.item()) or torch.isnan(loss).any() or loss != loss or loss == nan
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for comparison in model.comparisons:
            operands = [comparison.left] + [target.comparator for target in comparison.comparisons]
            for index, target in enumerate(comparison.comparisons):
                if not isinstance(target.operator, _OPERATORS):
                    continue
                left, right = operands[index], operands[index + 1]
                if self._is_nan(model, left) or self._is_nan(model, right):
                    always = "True" if isinstance(target.operator, (cst.NotEqual, cst.IsNot)) else "False"
                    other = right if self._is_nan(model, left) else left
                    yield Finding(
                        comparison,
                        f"comparison with NaN is always {always}; use `math.isnan(x)` (float), "
                        "`torch.isnan(x)` (tensor) or `np.isnan(x)` (array)",
                        fix=partial(_fix, model, comparison, other, isinstance(target.operator, (cst.NotEqual, cst.IsNot))),
                    )
                    break

    @staticmethod
    def _is_nan(model, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Name) and func.value == "float" and len(expr.args) == 1:
                value = expr.args[0].value
                if isinstance(value, cst.SimpleString):
                    return value.evaluated_value.strip().lower() in ("nan", "+nan", "-nan")
            return False
        if isinstance(expr, (cst.Name, cst.Attribute)):
            return model.qualname(expr) in _NAN_CONSTANTS
        return False


_ISNAN = {"tensor": "torch.isnan", "scalar": "math.isnan", "array": "numpy.isnan"}
_SCALAR_METHODS = frozenset({"item", "__float__"})


def _fix(model, comparison: cst.Comparison, other: cst.BaseExpression, negated: bool) -> NodeFix | None:
    """`isnan(other)` in the spelling for its kind, negated for `!=`/`is not`; None in a
    chained comparison or when the kind is unknown."""
    if len(comparison.comparisons) != 1:
        return None
    kind = value_kind(model, other)
    if kind is None:
        return None
    try:
        function, imports = spell(model, _ISNAN[kind], comparison)
    except FixUnavailable:
        return None
    if not isinstance(other, (cst.Tuple, cst.GeneratorExp, cst.Yield)):
        other = other.with_changes(lpar=[], rpar=[])  # the call's parentheses group it
    call = cst.Call(func=cst.parse_expression(function), args=[cst.Arg(other)])
    new: cst.BaseExpression = call
    if negated:
        operator = cst.Not() if kind == "scalar" else cst.BitInvert()
        new = cst.UnaryOperation(operator=operator, expression=call)
    return NodeFix(f"Use `{code_of(new)}`", (Replace(comparison, new), *imports))


def value_kind(model, expr: cst.BaseExpression, _depth: int = 0) -> str | None:
    """``tensor``, ``scalar`` (a Python number) or ``array`` (NumPy) when the file shows what
    `expr` holds, else None."""
    if _depth > 4:
        return None
    if isinstance(expr, (cst.Float, cst.Integer)):
        return "scalar"
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and not expr.args:
            if func.attr.value in _SCALAR_METHODS:
                return "scalar"
            if func.attr.value == "numpy":
                return "array"
        if isinstance(func, cst.Name) and func.value == "float" and not model.bindings_of("float", model.scope_for(expr)):
            return "scalar"
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name is not None:
            if name.startswith("math.") and name not in ("math.isnan", "math.isinf", "math.isfinite"):
                return "scalar"
            if name.startswith("numpy.") and not name.startswith("numpy.random.seed"):
                return "array"
    origin = model.origin(expr)
    if origin.kind is Kind.TENSOR and origin.certain:
        return "tensor"
    if isinstance(expr, cst.Name):
        bindings = reaching_bindings(model, expr.value, expr)
        kinds = set()
        for binding in bindings:
            if binding.kind not in ("assign", "annassign") or binding.unpack or binding.value is None:
                return None
            kinds.add(value_kind(model, binding.value, _depth + 1))
        if len(kinds) == 1:
            return kinds.pop()
    return None
