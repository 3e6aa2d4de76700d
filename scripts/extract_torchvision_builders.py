"""Lists torchvision's model builders that still accept the legacy `pretrained=` /
`pretrained_backbone=` arguments, read from torchvision's source (never imported).

Usage:
    python scripts/extract_torchvision_builders.py /tmp/corpus/src/torchvision/torchvision
    python scripts/extract_torchvision_builders.py --weights /tmp/corpus/src/torchvision/torchvision \
        > lint_rules/dlx_lint/data/torchvision_weights.toml

With ``--weights``: the table DLX304's fix reads (`dlx_lint/data/torchvision_weights.toml`): for
each builder, the weights enum member the decorator substitutes for a legacy ``True`` (a
constant, or for the quantized builders the two branches of its ``quantize`` lambda), and the
public module each enum class is exported from (the package whose ``__init__`` star-imports the
defining module, which lists the class in ``__all__``). Builders whose legacy default is None
or computed otherwise (``vit_h_14``, ``resnet_fpn_backbone``) are left out: no fix for ``True``.

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


def _member(node: ast.expr) -> str | None:
    """``ResNet50_Weights.IMAGENET1K_V1`` for that attribute expression, else None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _legacy_default(node: ast.expr) -> str | dict[str, str] | None:
    """The decorator's default for a legacy True: a member, or {quantize, float} for
    ``lambda kwargs: Q if kwargs.get("quantize", False) else F``; None otherwise."""
    member = _member(node)
    if member is not None:
        return member
    if isinstance(node, ast.Lambda) and isinstance(node.body, ast.IfExp):
        test, body, orelse = node.body.test, node.body.body, node.body.orelse
        if (isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "get"
                and test.args and isinstance(test.args[0], ast.Constant) and test.args[0].value == "quantize"
                and len(test.args) == 2 and isinstance(test.args[1], ast.Constant) and test.args[1].value is False):
            quantized, plain = _member(body), _member(orelse)
            if quantized and plain:
                return {"quantize": quantized, "float": plain}
        # keypointrcnn: `COCO_LEGACY if kwargs["pretrained"] == "legacy" else COCO_V1`; a
        # literal True is never "legacy".
        if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Subscript)
                and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "legacy"
                and isinstance(test.ops[0], ast.Eq)):
            return _member(orelse)
    return None


def _first_keyword_only(node: ast.FunctionDef) -> str | None:
    return node.args.kwonlyargs[0].arg if node.args.kwonlyargs and not node.args.args else None


def legacy_weights(root: Path) -> tuple[dict[str, dict[str, object]], dict[str, str]]:
    """(legacy argument -> builder path -> legacy default, enum class -> public module)."""
    found: dict[str, dict[str, object]] = {}
    defined: dict[str, str] = {}  # enum class -> module path of its definition
    exported: dict[str, set[str]] = {}  # module path -> names in __all__
    models = root / "models"
    for path in sorted(models.rglob("*.py")):
        relative = path.relative_to(models).with_suffix("")
        parts = relative.parts
        module = ".".join(("torchvision", "models") + parts)
        family = parts[0] if len(parts) > 1 else ""
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", "") == "WeightsEnum" for b in node.bases):
                defined[node.name] = module
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
                if isinstance(node.value, (ast.List, ast.Tuple)):
                    exported[module] = {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            for decorator in node.decorator_list:
                if not (isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "handle_legacy_interface"):
                    continue
                if _first_keyword_only(node) not in ("weights", "weights_backbone", "backbone_name", None):
                    raise SystemExit(f"{module}.{node.name}: unexpected first parameter")
                for keyword in decorator.keywords:
                    if not (isinstance(keyword.value, ast.Tuple) and len(keyword.value.elts) == 2):
                        continue
                    legacy, default = keyword.value.elts
                    value = _legacy_default(default)
                    if value is not None and isinstance(legacy, ast.Constant):
                        name = f"{family}.{node.name}" if family else node.name
                        found.setdefault(legacy.value, {})[name] = value
    public: dict[str, str] = {}
    for enum, module in defined.items():
        package, _, leaf = module.rpartition(".")
        init = models.joinpath(*package.split(".")[2:], "__init__.py")
        if enum not in exported.get(module, ()):
            continue
        init_text = init.read_text(encoding="utf-8")
        if f"from .{leaf} import *" in init_text:
            public[enum] = package
            continue
        # One re-export level: `models/mobilenet.py` star-imports `mobilenetv2` and extends
        # its `__all__` with mobilenetv2's, and the package star-imports `mobilenet`.
        for sibling in init.parent.glob("*.py"):
            text = sibling.read_text(encoding="utf-8")
            if (f"from .{sibling.stem} import *" in init_text and f"from .{leaf} import *" in text
                    and f"from .{leaf} import __all__" in text):
                public[enum] = package
    return found, public


def print_weights(root: Path) -> None:
    found, public = legacy_weights(root)
    print("# Generated by scripts/extract_torchvision_builders.py --weights from torchvision's source")
    print("# (torchvision/models/**: the `@handle_legacy_interface(...)` decorators and `__all__`).")
    print("# [pretrained] / [pretrained_backbone]: builder (relative to torchvision.models) -> the weights")
    print("# the legacy shim substitutes for `True` (torchvision/models/_utils.py, handle_legacy_interface);")
    print("# an inline table gives the two branches of the quantized builders' `quantize` lambda.")
    print("# [modules]: weights enum class -> the public module exporting it.")
    used: set[str] = set()
    for argument in sorted(found):
        print(f"\n[{argument}]")
        for name, value in sorted(found[argument].items()):
            key = f'"{name}"' if "." in name else name
            if isinstance(value, dict):
                used.update(v.split(".")[0] for v in value.values())
                print(f'{key} = {{ quantize = "{value["quantize"]}", float = "{value["float"]}" }}')
            else:
                used.add(value.split(".")[0])
                print(f'{key} = "{value}"')
    print("\n[modules]")
    for enum in sorted(used):
        if enum not in public:
            raise SystemExit(f"{enum}: no public module found")
        print(f'{enum} = "{public[enum]}"')


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[1] == "--weights":
        print_weights(Path(argv[2]) if len(argv) > 2 else Path("/tmp/corpus/src/torchvision/torchvision"))
        return 0
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
