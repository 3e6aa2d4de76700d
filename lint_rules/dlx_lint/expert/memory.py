"""Memory of a parameter count: weights in common precisions and training with Adam.

Formulas (bytes):

* weights: ``parameters × bytes per element`` -- fp32 4, bf16/fp16 2, int8 1;
* training with Adam/AdamW in fp32: ``parameters × 16`` -- the weights (4), their gradients (4)
  and Adam's two moment estimates ``exp_avg`` and ``exp_avg_sq`` (4 + 4), as the optimizer
  keeps one tensor of each per parameter (PyTorch ``torch.optim.Adam`` docs, "state").

Not included, and said so wherever these figures are shown: activations (they depend on the
batch and sequence sizes), buffers (BatchNorm running statistics), temporary workspace, the
CUDA context and the allocator's fragmentation. Mixed-precision training keeps fp32 master
weights and optimizer state, so its total is about the same 16 bytes per parameter plus
half-precision copies.
"""

from __future__ import annotations

PRECISIONS: tuple[tuple[str, int], ...] = (("fp32", 4), ("bf16 / fp16", 2), ("int8", 1))
"""(name, bytes per element) for the weight-memory rows."""

ADAM_TRAINING_BYTES = 16
"""Bytes per parameter for fp32 training with Adam: weights 4 + gradients 4 + two moments 8."""

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def weight_bytes(count: int, bytes_per_element: int) -> int:
    """Bytes of `count` parameters stored with `bytes_per_element` bytes each."""
    return count * bytes_per_element


def training_bytes(count: int) -> int:
    """Bytes to train `count` parameters with Adam in fp32 (weights, gradients, 2 moments)."""
    return count * ADAM_TRAINING_BYTES


def format_bytes(size: int) -> str:
    """``187.5 MiB``: binary units (1 KiB = 1024 B), three significant digits."""
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - loop always returns


def format_count(count: int) -> str:
    """``45,099,008 (45.1 M)``: the exact count and its short form (k, M, B)."""
    exact = f"{count:,}"
    for threshold, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "k")):
        if count >= threshold:
            return f"{exact} ({count / threshold:.3g} {suffix})"
    return exact


def short_count(count: int) -> str:
    """``45.1M``, ``12.3k``, ``512``: for inlay hints."""
    for threshold, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "k")):
        if count >= threshold:
            return f"{count / threshold:.3g}{suffix}"
    return str(count)
