"""Properties of fix-all, with unsafe fixes on and every rule selected: the result parses
(and compiles when the input did), no fix is dropped as broken, and a second run finds
nothing more to fix. Checked on generated programs (hypothesmith) combined with the rules' bad
examples, on every labelled case, and on a fixed sample of the corpus.

The budget is fixed (derandomised, a few dozen examples, a sample of the corpus) so the
module runs in well under a minute.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dlx_lint import Settings
from dlx_lint.fixer import compiles, fix_notebook, fix_source, parses
from dlx_lint.registry import all_rules

from .conftest import CASES

ALL = Settings(select=("ALL",))
CORPUS_SAMPLE = Path(os.environ.get("DLX_CORPUS_SAMPLE", "/tmp/corpus/sub10"))
CORPUS_FILES = 40  # every n-th torch file of the sample, n chosen to give about this many

BAD_EXAMPLES = [textwrap.dedent(snippet) for rule in all_rules() for snippet in rule.bad_examples]


def check_fix_all(path: str, text: str):
    """Fix `text` with every rule and unsafe fixes; assert the properties above. Returns the
    FixResult (tests/test_fuzz.py checks more on it)."""
    result = fix_source(path, text, ALL, unsafe=True)
    if not parses(text):
        assert result.text == text and not result.applied  # nothing to fix in a broken file
        return result
    assert not result.errors, [e.message for e in result.errors]
    assert parses(result.text)
    if compiles(text):
        assert compiles(result.text)
    again = fix_source(path, result.text, ALL, unsafe=True)
    assert not again.applied, f"a second run still fixes {again.applied}"
    assert again.text == result.text
    return result


def _programs():
    import hypothesmith

    generated = hypothesmith.from_node()
    return st.tuples(st.sampled_from(BAD_EXAMPLES), generated, st.booleans())


@settings(max_examples=25, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(_programs())
def test_generated_programs_around_bad_examples(program):
    bad, generated, before = program
    text = generated + "\n" + bad if before else bad + "\n" + generated
    if not parses(text):
        return  # the two halves can clash (a continuation line, an unclosed construct)
    check_fix_all("generated.py", text)


@settings(max_examples=15, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(st.sampled_from(BAD_EXAMPLES), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_bad_examples_with_other_line_endings_and_no_final_newline(bad, newline, final):
    text = bad.replace("\n", newline)
    if not final:
        text = text.rstrip("\r\n")
    result = fix_source("example.py", text, ALL, unsafe=True)
    assert parses(result.text) and not result.errors
    if newline == "\r\n":
        assert "\n" not in result.text.replace("\r\n", "")
    assert result.text.endswith(newline) == final


CASE_FILES = sorted(CASES.glob("*.py")) if CASES.is_dir() else []


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_every_case_fixes_to_a_stable_valid_file(path):
    check_fix_all(str(path), path.read_text(encoding="utf-8"))


def test_case_notebooks_fix_to_valid_notebooks(cases_dir):
    import json

    for path in sorted(cases_dir.glob("*.ipynb")):
        data = path.read_bytes()
        new, result = fix_notebook(str(path), data, ALL, unsafe=True)
        assert not result.errors
        before, after = json.loads(data), json.loads(new)
        assert [c.get("outputs") for c in before["cells"]] == [c.get("outputs") for c in after["cells"]]
        again, second = fix_notebook(str(path), new, ALL, unsafe=True)
        assert again == new and not second.applied


def _corpus_sample() -> list[Path]:
    if not CORPUS_SAMPLE.is_dir():
        return []
    files = sorted(p for p in CORPUS_SAMPLE.rglob("*.py"))
    torch_files = [p for p in files if "torch" in p.read_text(encoding="utf-8", errors="replace")]
    step = max(1, len(torch_files) // CORPUS_FILES)
    return torch_files[::step][:CORPUS_FILES]


SAMPLE = _corpus_sample()


@pytest.mark.skipif(not SAMPLE, reason=f"corpus sample not found at {CORPUS_SAMPLE} (build it with ../shared/corpus/build.sh)")
@pytest.mark.parametrize("path", SAMPLE, ids=[str(p.relative_to(CORPUS_SAMPLE)) if SAMPLE else "" for p in SAMPLE])
def test_corpus_sample_fixes_to_a_stable_valid_file(path):
    check_fix_all(str(path), path.read_text(encoding="utf-8"))
