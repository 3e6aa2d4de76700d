"""DLX016 nan-equality: comparing with NaN using `==`, `!=`, `is` or `is not`."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule

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

def diverged(loss_value, grads):
    return loss_value == float("nan") or grads is np.nan  # expect: DLX016
""",
        """
import torch

def check(t):
    if t != torch.nan:  # expect: DLX016
        return True
""",
    )
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
                    yield Finding(
                        comparison,
                        f"comparison with NaN is always {always}; use `math.isnan(x)` (float), "
                        "`torch.isnan(x)` (tensor) or `np.isnan(x)` (array)",
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
