"""The ``json-lines`` format: one JSON object per line, the same objects as ``json``.

Streams well (``jq -c``, log shippers) and never needs the whole array in memory to read.
"""

from __future__ import annotations

import json
from typing import Sequence

from ..diagnostics import Diagnostic
from .json_format import to_dict

SUMMARY = False


def render(diagnostics: Sequence[Diagnostic]) -> str:
    """One compact JSON object per diagnostic, each on its own line (empty for none)."""
    return "".join(json.dumps(to_dict(d), ensure_ascii=False) + "\n" for d in diagnostics)
