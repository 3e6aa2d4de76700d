"""Configuration discovery (`[tool.dlx-lint]` in pyproject.toml), validation and overrides."""

from __future__ import annotations

import textwrap

import pytest

from dlx_lint import config as config_module
from dlx_lint.config import ConfigError, Overrides, SettingsResolver, build_settings, load_config, parse_torch_version
from dlx_lint.diagnostics import Severity
from dlx_lint.engine import lint_bytes

LATIN1_BYTES = b'import torch\nname = "caf\xe9"\n'  # not UTF-8: one DLX902 io-error with default settings


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_nearest_pyproject_with_table_wins_and_tableless_ones_are_passed_over(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.dlx-lint]
        ignore = ["DLX902"]
    """)
    write(tmp_path / "pkg" / "pyproject.toml", """
        [project]
        name = "pkg"
    """)
    write(tmp_path / "other" / "pyproject.toml", """
        [tool.dlx-lint]
        select = ["DLX900"]
    """)
    resolver = SettingsResolver()
    in_pkg = resolver(str(tmp_path / "pkg" / "deep"))
    assert in_pkg.ignore == ("DLX902",)
    assert in_pkg.project_root == str(tmp_path)
    in_other = resolver(str(tmp_path / "other"))
    assert in_other.select == ("DLX900",)
    assert in_other.ignore == ()  # no merging with the parent's table
    assert in_other.project_root == str(tmp_path / "other")


def test_no_configuration_means_defaults(tmp_path):
    settings = SettingsResolver()(str(tmp_path))
    assert settings.select is None and settings.ignore == () and settings.project_root is None


def test_each_pyproject_is_read_once(tmp_path, monkeypatch):
    write(tmp_path / "pyproject.toml", "[tool.dlx-lint]\nignore = ['DLX900']\n")
    calls = []
    real = config_module.read_pyproject
    monkeypatch.setattr(config_module, "read_pyproject", lambda path: calls.append(path) or real(path))
    resolver = SettingsResolver()
    first = resolver.for_file(str(tmp_path / "a" / "x.py"))
    second = resolver.for_file(str(tmp_path / "a" / "y.py"))
    third = resolver.for_file(str(tmp_path / "b" / "z.py"))
    assert calls == [str(tmp_path / "pyproject.toml")]
    assert first is second is third  # one Settings object per configuration file


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("selekt = ['DLX001']", "unknown key 'selekt' (did you mean 'select'?)"),
        ("select = 'DLX900'", "select must be a list of strings, not a string"),
        ("ignore = [1]", "ignore must be a list of strings, not an array"),
        ("select = ['DLX999']", "select: unknown rule selector 'DLX999'"),
        ("ignore = ['no-such-rule']", "ignore: unknown rule selector 'no-such-rule'"),
        ("target-torch-version = 2.4", "target-torch-version must be a string"),
        ("target-torch-version = 'two'", "invalid torch version 'two'"),
        ("per-file-ignores = ['x']", "per-file-ignores must be a table"),
        ("[tool.dlx-lint.per-file-ignores]\n'tests/*' = 'DLX900'", "per-file-ignores.'tests/*' must be a list of strings"),
        ("[tool.dlx-lint.per-file-ignores]\n'tests/*' = ['DLX998']", "unknown rule selector 'DLX998'"),
        ("[tool.dlx-lint.severity]\nDLX900 = 'fatal'", "unknown severity 'fatal'"),
        ("[tool.dlx-lint.severity]\nDLX997 = 'info'", "severity: unknown rule selector 'DLX997'"),
        ("select = [", "invalid TOML"),
    ],
)
def test_invalid_configuration_is_one_line_naming_the_file(tmp_path, body, fragment):
    path = write(tmp_path / "pyproject.toml", "[tool.dlx-lint]\n" + body + "\n")
    with pytest.raises(ConfigError) as info:
        SettingsResolver()(str(tmp_path))
    message = str(info.value)
    assert fragment in message
    assert str(path) in message
    assert "\n" not in message


def test_invalid_toml_in_a_tableless_parent_is_an_error(tmp_path):
    # It has to be parsed to know whether it holds the table, as ruff does.
    write(tmp_path / "pyproject.toml", "[project\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        SettingsResolver()(str(tmp_path / "sub"))


def test_table_that_is_not_a_table(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool]\ndlx-lint = 3\n")
    with pytest.raises(ConfigError, match=r"\[tool.dlx-lint\] must be a table"):
        load_config(str(tmp_path / "pyproject.toml"))


def test_every_key_is_read(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.dlx-lint]
        select = ["DLX9"]
        extend-select = ["syntax-error"]
        ignore = ["DLX900"]
        exclude = ["generated"]
        extend-exclude = ["legacy/*"]
        target-torch-version = "2.4"
        [tool.dlx-lint.per-file-ignores]
        "tests/*" = ["io-error"]
        [tool.dlx-lint.severity]
        DLX902 = "warning"
    """)
    settings = SettingsResolver()(str(tmp_path))
    assert settings.select == ("DLX9",)
    assert settings.extend_select == ("syntax-error",)
    assert settings.ignore == ("DLX900",)
    assert settings.exclude == ("generated", "legacy/*")
    assert settings.target_torch_version == (2, 4)
    assert settings.per_file_ignores == (("tests/*", ("io-error",)),)
    assert settings.severity_overrides == (("DLX902", Severity.WARNING),)
    assert settings.base_codes() == frozenset({"DLX901", "DLX902"})  # DLX9 selects the opt-in DLX901 too


def test_command_line_select_replaces_and_extend_select_ignore_add(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.dlx-lint]
        select = ["DLX900"]
        ignore = ["DLX902"]
        extend-select = ["DLX902"]
        target-torch-version = "2.1"
    """)
    config = load_config(str(tmp_path / "pyproject.toml"))
    replaced = build_settings(config, Overrides(select=("DLX902",), ignore=("DLX900",), target_torch_version=(2, 6)))
    assert replaced.select == ("DLX902",)
    assert replaced.ignore == ("DLX902", "DLX900")
    assert replaced.target_torch_version == (2, 6)
    added = build_settings(config, Overrides(extend_select=("io-error",)))
    assert added.select == ("DLX900",)
    assert added.extend_select == ("DLX902", "io-error")
    assert added.target_torch_version == (2, 1)


def test_unknown_rule_on_the_command_line_names_the_flag():
    with pytest.raises(ConfigError, match=r"^--extend-select: unknown rule selector 'DLX555'"):
        build_settings(None, Overrides(extend_select=("DLX555",)))


def test_explicit_config_is_used_for_every_path(tmp_path):
    explicit = write(tmp_path / "conf" / "pyproject.toml", "[tool.dlx-lint]\nignore = ['DLX902']\n")
    write(tmp_path / "project" / "pyproject.toml", "[tool.dlx-lint]\nselect = ['DLX900']\n")
    resolver = SettingsResolver(config_path=str(explicit))
    settings = resolver(str(tmp_path / "project"))
    assert settings.ignore == ("DLX902",) and settings.select is None
    assert settings.project_root == str(tmp_path / "conf")


def test_explicit_config_without_table_means_defaults_and_missing_one_is_an_error(tmp_path):
    plain = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    assert SettingsResolver(config_path=str(plain))(str(tmp_path)).select is None
    with pytest.raises(ConfigError, match="config file not found"):
        SettingsResolver(config_path=str(tmp_path / "missing.toml"))


def test_per_file_ignores_match_relative_to_the_project_root(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [tool.dlx-lint.per-file-ignores]
        "legacy/*" = ["io-error"]
        "*_gen.py" = ["DLX9"]
    """)
    resolver = SettingsResolver()
    legacy = str(tmp_path / "legacy" / "old.py")
    generated = str(tmp_path / "src" / "model_gen.py")
    normal = str(tmp_path / "src" / "model.py")
    assert lint_bytes(legacy, LATIN1_BYTES, resolver.for_file(legacy)) == []
    assert lint_bytes(generated, LATIN1_BYTES, resolver.for_file(generated)) == []
    assert [d.code for d in lint_bytes(normal, LATIN1_BYTES, resolver.for_file(normal))] == ["DLX902"]


def test_severity_override_reaches_the_diagnostic(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.dlx-lint.severity]\nio-error = 'info'\n")
    path = str(tmp_path / "x.py")
    (diagnostic,) = lint_bytes(path, LATIN1_BYTES, SettingsResolver().for_file(path))
    assert diagnostic.severity is Severity.INFO


@pytest.mark.parametrize("selector", ["DLX902", "dlx902", "DLX90", "DLX9", "io-error", "ALL"])
def test_selectors_by_code_prefix_name_and_all(selector):
    settings = build_settings(None, Overrides(select=(selector,)))
    assert "DLX902" in settings.base_codes()
    assert [d.code for d in lint_bytes("x.py", LATIN1_BYTES, settings)] == ["DLX902"]
    ignored = build_settings(None, Overrides(ignore=(selector,)))
    assert "DLX902" not in ignored.base_codes()
    assert lint_bytes("x.py", LATIN1_BYTES, ignored) == []


@pytest.mark.parametrize("text, expected", [("2.4", (2, 4)), ("1.13.1", (1, 13)), (" 2.10 ", (2, 10))])
def test_torch_version(text, expected):
    assert parse_torch_version(text) == expected


@pytest.mark.parametrize("text", ["2", "v2.4", "2.x", ""])
def test_bad_torch_version(text):
    with pytest.raises(ValueError, match="expected MAJOR.MINOR"):
        parse_torch_version(text)
