"""Output formats for CI and tools: SARIF against the official schema, JUnit as XML, GitHub
workflow-command syntax, GitLab Code Quality structure, json-lines, full code frames and
`--output-file`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from dlx_lint import cli
from dlx_lint.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, rule_url
from dlx_lint.output import FORMATS, get_format
from dlx_lint.registry import all_rules

SCHEMAS = Path(__file__).resolve().parent / "schemas"
SARIF_SCHEMA_SHA256 = "d9ae9a4394e29ad68cea57a3f7ec4ec0f283887edba0c8f8f2999c8903407636"

NAN_SOURCE = 'import torch\nx = torch.zeros(3)\nprint(x == float("nan"))\n'  # DLX016 at 3:7
NOTEBOOK = {
    "nbformat": 4, "nbformat_minor": 5, "metadata": {},
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# intro"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "import torch\nx = torch.zeros(3)\n"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": 'print(x == float("nan"))'},
    ],
}


def _diagnostic(filename, code="DLX016", row=3, column=7, end_row=3, end_column=24, **kwargs):
    name = kwargs.pop("name", "nan-equality")
    return Diagnostic(
        code=code, name=name, message=kwargs.pop("message", "comparison with NaN is always False"),
        severity=kwargs.pop("severity", Severity.ERROR), filename=filename, row=row, column=column,
        end_row=end_row, end_column=end_column, noqa_row=row, url=rule_url(code, name), **kwargs,
    )


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A working directory with a finding in a file whose name needs escaping, a notebook
    finding, and an unreadable (Latin-1) file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src dir").mkdir()
    (tmp_path / "src dir" / "nän,x.py").write_text(NAN_SOURCE, encoding="utf-8")
    (tmp_path / "nb.ipynb").write_text(json.dumps(NOTEBOOK), encoding="utf-8")
    (tmp_path / "latin.py").write_bytes(b'import torch\nname = "caf\xe9"\n')
    return tmp_path


def lint(workspace) -> list[Diagnostic]:
    from dlx_lint.config import SettingsResolver
    from dlx_lint.runner import lint_paths

    return lint_paths(["."], SettingsResolver(), jobs=1)


def extra_diagnostics(workspace) -> list[Diagnostic]:
    """Shapes linting the workspace does not produce: a fix, a hostile message, DLX999."""
    path = str(workspace / "src dir" / "nän,x.py")
    fix = Fix(Applicability.SAFE, "compare with `torch.isnan`", (Edit(3, 7, 3, 24, "torch.isnan(x)"),))
    return [
        _diagnostic(path, fix=fix),
        _diagnostic(path, row=2, column=1, end_row=2, end_column=2, message="100% wrong:\nsee, here\r\x01", severity=Severity.INFO),
        _diagnostic(path, code="DLX999", name="internal-error", row=1, column=1, end_row=1, end_column=1, message="rule failed"),
    ]


def render(name, diagnostics, **kwargs):
    return get_format(name).render(diagnostics, **kwargs)


def test_every_format_is_registered_and_importable():
    assert set(FORMATS) == {"concise", "full", "json", "json-lines", "sarif", "github", "gitlab", "junit"}
    for name in FORMATS:
        module = get_format(name)
        assert callable(module.render) and isinstance(module.SUMMARY, bool)


# --- SARIF ---------------------------------------------------------------------------------


def sarif_validator():
    data = (SCHEMAS / "sarif-schema-2.1.0.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256, "the shipped SARIF schema changed"
    schema = json.loads(data)
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def test_sarif_validates_against_the_official_schema(workspace):
    diagnostics = lint(workspace) + extra_diagnostics(workspace)
    log = json.loads(render("sarif", diagnostics))
    errors = sorted(sarif_validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    empty = json.loads(render("sarif", []))
    assert not list(sarif_validator().iter_errors(empty))
    assert empty["runs"][0]["results"] == []


def test_sarif_rules_describe_every_rule(workspace):
    run = json.loads(render("sarif", []))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.code for rule in all_rules()]
    for descriptor, rule in zip(rules, all_rules()):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"].strip()
        assert descriptor["helpUri"] == rule_url(rule.code, rule.name)
        assert descriptor["help"]["markdown"].startswith(f"# {rule.code} {rule.name}")
    assert run["tool"]["driver"]["name"] == "dlx-lint"


def test_sarif_results_regions_columns_and_paths(workspace):
    diagnostics = lint(workspace) + extra_diagnostics(workspace)
    run = json.loads(render("sarif", diagnostics))["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"  # dlx-lint counts code points, not UTF-16
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(diagnostics)
    by_uri = {}
    for result, diagnostic in zip(results, diagnostics):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == diagnostic.code
        location = result["locations"][0]["physicalLocation"]
        by_uri.setdefault(location["artifactLocation"]["uri"], []).append((result, location))
    assert set(by_uri) == {"src%20dir/n%C3%A4n%2Cx.py", "nb.ipynb", "latin.py"}
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert urllib.parse.unquote(base).rstrip("/") == "file://" + str(workspace)
    nan_result, nan_location = by_uri["src%20dir/n%C3%A4n%2Cx.py"][0]
    assert nan_location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert nan_location["region"] == {"startLine": 3, "startColumn": 7, "endLine": 3, "endColumn": 24}
    assert nan_result["level"] == "error"
    (nb_result, nb_location), = by_uri["nb.ipynb"]
    assert "region" not in nb_location  # rows count within a cell, not within the JSON file
    assert nb_result["properties"] == {"cell": 2} and nb_result["message"]["text"].startswith("cell 2: ")
    # The linted DLX016 finding and the hand-made one both carry the `torch.isnan` fix.
    fixed = [r for r in results if "fixes" in r]
    assert len(fixed) == 2 and all(r["ruleId"] == "DLX016" for r in fixed)
    replacement = fixed[1]["fixes"][0]["artifactChanges"][0]["replacements"][0]  # the hand-made one
    assert replacement == {"deletedRegion": {"startLine": 3, "startColumn": 7, "endLine": 3, "endColumn": 24}, "insertedContent": {"text": "torch.isnan(x)"}}
    internal = [r for r in results if r["ruleId"] == "DLX999"]
    assert rules[internal[0]["ruleIndex"]]["id"] == "DLX999"


def test_sarif_path_outside_the_working_directory_is_an_absolute_file_uri(tmp_path, monkeypatch):
    inside = tmp_path / "inside"
    inside.mkdir()
    monkeypatch.chdir(inside)
    outside = tmp_path / "other" / "a.py"
    log = json.loads(render("sarif", [_diagnostic(str(outside))]))
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": outside.as_uri()}


# --- JUnit ---------------------------------------------------------------------------------


def test_junit_is_xml_with_one_testcase_per_finding(workspace):
    diagnostics = lint(workspace) + extra_diagnostics(workspace)
    root = ET.fromstring(render("junit", diagnostics).encode("utf-8"))
    assert root.tag == "testsuites"
    cases = list(root.iter("testcase"))
    assert len(cases) == len(diagnostics) == int(root.get("tests")) == int(root.get("failures"))
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {os.path.join("src dir", "nän,x.py"), "nb.ipynb", "latin.py"}
    for suite in suites.values():
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
    messages = [case.find("failure").get("message") for case in cases]
    assert "100% wrong:\nsee, here\r\ufffd" in messages  # a control character cannot be XML
    codes = {case.find("failure").get("type") for case in cases}
    assert {"DLX016", "DLX902", "DLX999"} <= codes


def test_junit_clean_run_has_one_passing_testcase():
    root = ET.fromstring(render("junit", []).encode("utf-8"))
    cases = list(root.iter("testcase"))
    assert len(cases) == 1 and cases[0].find("failure") is None
    assert root.get("failures") == "0"


# --- GitHub --------------------------------------------------------------------------------

WORKFLOW_COMMAND = re.compile(
    r"^::(?P<command>error|warning|notice) "
    r"(?P<properties>title=[^,:\r\n]*,file=[^,:\r\n]+(?:,line=\d+,col=\d+,endLine=\d+,endColumn=\d+)?)"
    r"::(?P<message>[^\r\n]*)$"
)


def unescape(text: str) -> str:
    return re.sub(r"%(25|0D|0A|3A|2C)", lambda m: {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}[m.group(1)], text)


def test_github_lines_are_workflow_commands(workspace):
    diagnostics = lint(workspace) + extra_diagnostics(workspace)
    lines = render("github", diagnostics).splitlines()
    assert len(lines) == len(diagnostics)
    for line, diagnostic in zip(lines, diagnostics):
        match = WORKFLOW_COMMAND.match(line)
        assert match, line
        assert match["command"] == {"error": "error", "warning": "warning", "info": "notice"}[diagnostic.severity.value]
        properties = dict(part.split("=", 1) for part in match["properties"].split(","))
        assert unescape(properties["file"]) == os.path.abspath(diagnostic.filename)
        assert unescape(properties["title"]) == f"dlx-lint ({diagnostic.code})"
        message = unescape(match["message"])
        assert message.endswith(diagnostic.message) and f" {diagnostic.code} " in message
        if diagnostic.cell is None:
            assert (properties["line"], properties["col"]) == (str(diagnostic.row), str(diagnostic.column))
            assert (properties["endLine"], properties["endColumn"]) == (str(diagnostic.end_row), str(diagnostic.end_column))
        else:
            assert "line" not in properties and f"cell {diagnostic.cell}" in message
    hostile = next(line for line in lines if "100%25 wrong" in line)
    assert "%0A" in hostile and "%0D" in hostile and "\n" not in hostile
    assert "n%C3%A4n" not in hostile and "nän%2Cx.py" in hostile  # comma escaped in the file property


# --- GitLab --------------------------------------------------------------------------------


def test_gitlab_report_validates_against_the_documented_structure(workspace, monkeypatch):
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    diagnostics = lint(workspace) + extra_diagnostics(workspace)
    report = json.loads(render("gitlab", diagnostics))
    schema = json.loads((SCHEMAS / "gitlab-codequality.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(report)
    assert len(report) == len(diagnostics)
    assert len({issue["fingerprint"] for issue in report}) == len(report)
    assert {issue["location"]["path"] for issue in report} == {"src dir/nän,x.py", "nb.ipynb", "latin.py"}
    severities = {issue["check_name"]: issue["severity"] for issue in report}
    assert severities["DLX902"] == "major"
    assert json.loads(render("gitlab", [])) == []


def test_gitlab_fingerprints_survive_line_moves_and_paths_follow_ci_project_dir(tmp_path, monkeypatch):
    project = tmp_path / "project"
    monkeypatch.setenv("CI_PROJECT_DIR", str(project))
    path = str(project / "pkg" / "a.py")
    before = json.loads(render("gitlab", [_diagnostic(path, row=3, end_row=3)]))
    after = json.loads(render("gitlab", [_diagnostic(path, row=9, end_row=9)]))
    assert before[0]["fingerprint"] == after[0]["fingerprint"]
    assert before[0]["location"] == {"path": "pkg/a.py", "lines": {"begin": 3, "end": 3}}
    twice = json.loads(render("gitlab", [_diagnostic(path, row=3), _diagnostic(path, row=5)]))
    assert twice[0]["fingerprint"] != twice[1]["fingerprint"]


# --- json-lines and full ----------------------------------------------------------------------


def test_json_lines_are_the_json_objects_one_per_line(workspace):
    diagnostics = lint(workspace) + extra_diagnostics(workspace)
    lines = render("json-lines", diagnostics).splitlines()
    assert [json.loads(line) for line in lines] == json.loads(render("json", diagnostics))
    assert render("json-lines", []) == ""


def test_full_shows_a_code_frame_with_carets_and_the_fix_title(workspace):
    path = str(workspace / "src dir" / "nän,x.py")
    fix = Fix(Applicability.SAFE, "compare with `torch.isnan`", (Edit(3, 7, 3, 24, "torch.isnan(x)"),))
    text = render("full", [_diagnostic(path, fix=fix)])
    lines = text.splitlines()
    assert lines[0].endswith(": DLX016 [*] comparison with NaN is always False")
    assert "2 | x = torch.zeros(3)" in lines
    source_line = next(line for line in lines if line.startswith("3 | "))
    caret_line = lines[lines.index(source_line) + 1]
    start = caret_line.index("^")
    assert source_line[start:].startswith('x == float("nan")')
    assert caret_line[start:] == "^" * 17 + " DLX016"
    assert [line for line in lines if line][-1].strip() == "= help: compare with `torch.isnan` (safe fix)"


def test_full_frames_notebook_cells_tabs_and_wide_characters(workspace, tmp_path):
    (diagnostic,) = [d for d in lint(workspace) if d.cell is not None]
    lines = render("full", [diagnostic]).splitlines()
    assert lines[0].endswith(diagnostic.message) and ":cell 2:1:7:" in lines[0]
    assert '1 | print(x == float("nan"))' in lines
    wide = tmp_path / "wide.py"
    wide.write_text("\tname = '漢字' + x\n", encoding="utf-8")
    lines = render("full", [_diagnostic(str(wide), row=1, column=16, end_row=1, end_column=17)]).splitlines()
    source_line = lines[2]
    caret_line = lines[3]
    assert source_line == "1 |     name = '漢字' + x"  # the tab shows as four spaces
    assert caret_line.index("^") == len("1 |     name = '漢字' + ") + 2  # two wide characters


def test_full_without_readable_source_prints_the_header_only(tmp_path):
    text = render("full", [_diagnostic(str(tmp_path / "gone.py"))])
    assert text.count("\n") == 2 and text.startswith(str(tmp_path / "gone.py"))


def test_full_uses_the_text_read_from_stdin(capsys, monkeypatch, tmp_path):
    import io
    import types

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=io.BytesIO(NAN_SOURCE.encode())))
    code = cli.main(["check", "-", "--stdin-filename", "piped.py", "--output-format", "full", "--select", "DLX016"])
    out = capsys.readouterr().out
    assert code == 1
    assert '3 | print(x == float("nan"))' in out
    assert out.rstrip().endswith("Found 1 error.\n[*] 1 fixable with the `--fix` option.")


# --- --output-file ------------------------------------------------------------------------------


def test_output_file_receives_the_report(workspace, capsys):
    target = workspace / "reports" / "dlx.sarif"
    code = cli.main(["check", "--output-format", "sarif", "--output-file", str(target), "."])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert not list(sarif_validator().iter_errors(json.loads(target.read_text(encoding="utf-8"))))
    code = cli.main(["check", "-o", str(workspace / "out.txt"), "latin.py"])
    assert code == 1 and capsys.readouterr().out == ""
    assert (workspace / "out.txt").read_text().splitlines()[-1] == "Found 1 error."


def test_unwritable_output_file_is_a_one_line_error(workspace, capsys):
    (workspace / "blocker").write_text("")
    code = cli.main(["check", "--output-file", str(workspace / "blocker" / "x.json"), "latin.py"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot write the report" in err
