"""Lists torchvision's model builders that still accept the legacy `pretrained=` /
`pretrained_backbone=` arguments, read from torchvision's source (never imported).

Usage:
    python scripts/extract_torchvision_builders.py /tmp/corpus/src/torchvision/torchvision

A builder counts when it is decorated with ``@handle_legacy_interface(weights=("pretrained",
...), weights_backbone=("pretrained_backbone", ...))`` (torchvision/models/_utils.py, added in
torchvision 0.13). Prints TOML arrays for the `[[argument]]` entries of
`dlx_lint/data/deprecations.toml`: builder paths relative to `torchvision.models`, grouped by the
legacy argument they accept.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def legacy_builders(root: Path) -> dict[str, list[str]]:
    """Legacy argument name -> sorted builder paths (``resnet18``, ``detection.fasterrcnn_resnet50_fpn``)."""
    found: dict[str, set[str]] = {}
    models = root / "models"
    for path in sorted(models.rglob("*.py")):
        relative = path.relative_to(models).with_suffix("")
        parts = relative.parts
        family = parts[0] if len(parts) > 1 else ""
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            for decorator in node.decorator_list:
                if not (isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "handle_legacy_interface"):
                    continue
                for keyword in decorator.keywords:
                    if isinstance(keyword.value, ast.Tuple) and keyword.value.elts:
                        first = keyword.value.elts[0]
                        if isinstance(first, ast.Constant) and isinstance(first.value, str):
                            name = f"{family}.{node.name}" if family else node.name
                            found.setdefault(first.value, set()).add(name)
    return {key: sorted(values) for key, values in found.items()}


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path("/tmp/corpus/src/torchvision/torchvision")
    for argument, names in sorted(legacy_builders(root).items()):
        print(f"# {argument}: {len(names)} builders")
        print("functions = [")
        for name in names:
            print(f'    "torchvision.models.{name}",')
        print("]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
