"""``--show-settings``: the effective configuration for one file, as dlx-lint resolved it.

Text (TOML-like, one key a line) or, with ``--output-format json``, one JSON object with the
same keys: ``file``, ``config_file`` (null for the defaults), ``project_root``,
``cache_dir`` (null with ``--no-cache``), ``select``, ``extend_select``, ``ignore``,
``per_file_ignores``, ``exclude``, ``target_torch_version``, ``severity`` and ``rules`` (the
rules enabled for this file, after per-file ignores, with their effective severity).
"""

from __future__ import annotations

import json
import os
from typing import Any


def effective_settings(path: str, resolver, cache_dir: str | None) -> dict[str, Any]:
    """The settings that apply to `path` (a file, or a directory for the files in it).

    Args:
        path: the file or directory, as given.
        resolver: the run's `dlx_lint.config.SettingsResolver` (flags already applied).
        cache_dir: the cache directory the run would use, or None when caching is off.

    Raises:
        dlx_lint.config.ConfigError: a configuration file on the way up is invalid.
    """
    from .registry import rules_by_code

    directory = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    directory = os.path.abspath(directory)
    config = resolver.config_for(directory)
    settings = resolver(directory)
    probe = path if not os.path.isdir(path) else os.path.join(path, "__init__.py")
    rules = rules_by_code()
    enabled = sorted(settings.enabled_codes(probe))
    return {
        "file": path,
        "config_file": config.path if config is not None else None,
        "project_root": settings.project_root,
        "cache_dir": cache_dir,
        "select": list(settings.select) if settings.select is not None else None,
        "extend_select": list(settings.extend_select),
        "ignore": list(settings.ignore),
        "per_file_ignores": {pattern: list(selectors) for pattern, selectors in settings.per_file_ignores},
        "exclude": list(settings.exclude),
        "target_torch_version": ".".join(map(str, settings.target_torch_version)) if settings.target_torch_version else None,
        "severity": {selector: severity.value for selector, severity in settings.severity_overrides},
        "rules": [
            {"code": code, "name": rules[code].name, "severity": settings.severity_of(code, rules[code].severity).value}
            for code in enabled
        ],
    }


def render_text(data: dict[str, Any]) -> str:
    """`effective_settings` as ``key = value`` lines (JSON values), then one line per rule."""
    lines = [f"# Settings for {data['file']}"]
    for key, value in data.items():
        if key in ("file", "rules"):
            continue
        lines.append(f"{key.replace('_', '-')} = {json.dumps(value, ensure_ascii=False)}")
    lines.append(f"# {len(data['rules'])} rules enabled for this file")
    width = max((len(rule["name"]) for rule in data["rules"]), default=0)
    for rule in data["rules"]:
        lines.append(f"{rule['code']}  {rule['name']:<{width}}  {rule['severity']}")
    return "\n".join(lines) + "\n"


def render_json(data: dict[str, Any]) -> str:
    """`effective_settings` as indented JSON."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
