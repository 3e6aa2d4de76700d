"""DLX103 manual-attention (performance, opt-in): hand-written scaled dot-product attention."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.dataflow import reaching_bindings, _binding_value
from ..semantic.names import dotted_name

_MATMUL_FUNCTIONS = frozenset({"torch.matmul", "torch.bmm", "torch.einsum"})
_SOFTMAX_FUNCTIONS = frozenset({"torch.softmax", "torch.nn.functional.softmax", "torch.special.softmax"})
_TRANSPOSES = frozenset({"transpose", "permute", "t", "mT"})


class ManualAttention(Rule):
    code = "DLX103"
    name = "manual-attention"
    severity = Severity.INFO
    enabled_by_default = False
    requires = ("softmax",)
    summary = "softmax(q @ k^T / scale) @ v by hand: F.scaled_dot_product_attention is fused and faster"
    what = """
Reports the outer matrix product of `softmax(q @ k.transpose(-2, -1) [/ scale | * scale]
[+ mask]) @ v` (any spelling of matmul — `@`, `torch.matmul`, `torch.bmm` —, of the transpose —
`.transpose`, `.mT`, `.permute` — and of softmax), through intermediate variables.
"""
    why = """
The explicit form materialises the full (sequence x sequence) attention matrix in memory and
runs three kernels. `torch.nn.functional.scaled_dot_product_attention` computes the same
result (Vaswani et al. 2017) and dispatches to fused FlashAttention or memory-efficient kernels
(Dao et al. 2022) that never store the matrix: less memory, several times faster on GPUs.
"""
    example = """
weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1)
out = weights @ v
"""
    use_instead = """
out = F.scaled_dot_product_attention(q, k, v)            # + attn_mask=..., dropout_p=..., is_causal=...
"""
    limitations = "No automatic fix: masking conventions (additive vs boolean) and dropout placement differ; check them when rewriting."
    references = (
        Reference("PyTorch docs: scaled_dot_product_attention", "https://docs.pytorch.org/docs/stable/generated/torch.nn.functional.scaled_dot_product_attention.html"),
        Reference("Vaswani et al., Attention Is All You Need (2017)", "https://arxiv.org/abs/1706.03762"),
        Reference("Dao et al., FlashAttention (2022)", "https://arxiv.org/abs/2205.14135"),
    )
    bad_examples = (
        """
import math
import torch

def attend(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    weights = torch.softmax(scores + mask, dim=-1)
    return weights @ v  # expect: DLX103
""",
    )
    good_examples = (
        """
import torch
import torch.nn.functional as F

def attend(q, k, v, w):
    pooled = torch.softmax(w, dim=-1) @ v
    return F.scaled_dot_product_attention(q, k, v), pooled
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for node in _matmuls(model):
            left = node.left if isinstance(node, cst.BinaryOperation) else node.args[0].value
            softmax = _resolve(model, left)
            if _is_softmax(model, softmax) and _is_qk_product(model, _resolve(model, _softmax_input(model, softmax)), depth=0):
                yield Finding(node, "hand-written attention materialises the full score matrix; use `F.scaled_dot_product_attention(q, k, v, ...)`, which runs fused kernels")


def _matmuls(model):
    if "@" not in model.source and "matmul" not in model.source and "bmm" not in model.source:
        return
    for node in model.parent:
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.MatrixMultiply):
            yield node
    for name in ("matmul", "bmm"):
        for call in model.calls_to(name):
            if model.qualname(call.func) in _MATMUL_FUNCTIONS and len(call.args) >= 2:
                yield call


def _resolve(model, expr: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression:
    """Follow a name to its single reaching value (a few steps)."""
    while depth < 4 and isinstance(expr, cst.Name):
        bindings = reaching_bindings(model, expr.value, expr)
        if len(bindings) != 1:
            return expr
        value = _binding_value(bindings[0])
        if value is None:
            return expr
        expr = value
        depth += 1
    return expr


def _is_softmax(model, expr: cst.BaseExpression) -> bool:
    if not isinstance(expr, cst.Call):
        return False
    func = expr.func
    if isinstance(func, (cst.Name, cst.Attribute)) and model.qualname(func) in _SOFTMAX_FUNCTIONS:
        return True
    if isinstance(func, cst.Attribute) and func.attr.value == "softmax" and model.qualname(func) is None:
        return True
    return False


def _softmax_input(model, call: cst.Call) -> cst.BaseExpression:
    """The scores a softmax normalises: the first argument of `torch.softmax(x, dim)` /
    `F.softmax(x, dim)`, the receiver of `x.softmax(dim)`."""
    func = call.func
    if isinstance(func, (cst.Name, cst.Attribute)) and model.qualname(func) in _SOFTMAX_FUNCTIONS:
        return call.args[0].value if call.args else call
    return func.value if isinstance(func, cst.Attribute) else call


def _is_qk_product(model, expr: cst.BaseExpression, depth: int) -> bool:
    """`q @ k^T`, possibly scaled, shifted by a mask or cast."""
    if depth > 4:
        return False
    expr = _resolve(model, expr)
    if isinstance(expr, cst.BinaryOperation):
        if isinstance(expr.operator, cst.MatrixMultiply):
            return _is_transposed(model, _resolve(model, expr.right))
        if isinstance(expr.operator, (cst.Divide, cst.Multiply, cst.Add, cst.Subtract)):
            return _is_qk_product(model, expr.left, depth + 1) or _is_qk_product(model, expr.right, depth + 1)
        return False
    if isinstance(expr, cst.Call):
        func = expr.func
        name = model.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name in ("torch.matmul", "torch.bmm") and len(expr.args) >= 2:
            return _is_transposed(model, _resolve(model, expr.args[1].value))
        if isinstance(func, cst.Attribute) and name is None and func.attr.value in ("float", "masked_fill", "to", "type_as"):
            return _is_qk_product(model, func.value, depth + 1)
    return False


def _is_transposed(model, expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Attribute) and expr.attr.value in ("mT", "T"):
        return True
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        if expr.func.attr.value in _TRANSPOSES:
            return True
        if model.qualname(expr.func) == "torch.transpose":
            return True
    return False
