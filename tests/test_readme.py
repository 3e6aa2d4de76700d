"""README stays true: the `check` options table matches `dlx-lint check --help` both ways,
the set-up commands are the ones CI runs, and the pipeline snippets are valid and name real
hooks and action inputs."""

from __future__ import annotations

import re

import yaml

from dlx_lint.cli import build_parser

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def help_options() -> set[str]:
    check = build_parser().subcommands["check"]
    return {option for action in check._actions for option in action.option_strings}


def test_every_check_option_is_documented_and_every_documented_option_exists():
    documented = set(OPTION.findall(section("`dlx-lint check` options")))
    options = help_options()
    assert options - documented == set(), "options missing from README's `dlx-lint check` options"
    assert documented - options == set(), "README documents options `check --help` does not have"
    help_text = build_parser().subcommands["check"].format_help()
    for option in options:
        assert option in help_text


def test_every_output_format_is_documented():
    from dlx_lint.output import FORMATS

    table = section("Output formats")
    for name in FORMATS:
        assert f"| `{name}` |" in table


def test_setup_commands_are_at_the_top_and_match_ci():
    setup = README[: README.index("## Usage")]
    install = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/dlx-lint check examples/"
    assert install in setup and ".venv/bin/python -m pytest" in setup
    ci = (REPO / ".ci" / "run").read_text()
    assert "pip install -q -e '.[test]'" in ci and ".venv/bin/python -m pytest" in ci


def yaml_blocks() -> list:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", README, re.S)]


def test_pipeline_snippets_parse_and_name_real_hooks_and_inputs():
    blocks = yaml_blocks()
    hooks = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    action = yaml.safe_load((REPO / "action.yml").read_text())
    pre_commit = next(b for b in blocks if isinstance(b, dict) and "repos" in b)
    assert {hook["id"] for repo in pre_commit["repos"] for hook in repo["hooks"]} <= hooks
    workflow = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    (step,) = [s for job in workflow["jobs"].values() for s in job["steps"] if s.get("uses", "").startswith("dlx-lint/dlx-lint@")]
    assert set(step.get("with", {})) <= set(action["inputs"])
    inputs_line = section("Using dlx-lint in pipelines")
    for name in action["inputs"]:
        assert f"`{name}`" in inputs_line
    gitlab = next(b for b in blocks if isinstance(b, dict) and "dlx-lint" in b)
    assert gitlab["dlx-lint"]["artifacts"]["reports"]["codequality"] in " ".join(gitlab["dlx-lint"]["script"])
