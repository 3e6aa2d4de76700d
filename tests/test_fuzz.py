"""Mutation fuzzing: real files, damaged at random, through lint -> fix-all -> re-lint.

The seeds are the labelled cases (always), the bug fixtures of this repository and, when it is
there, a few files of the corpus sample that tests/test_fix_properties.py uses. A mutant is a
seed with one to four of: a line deleted, duplicated, swapped with another, a line of another
seed spliced in, bytes inserted (NUL, invalid UTF-8, an encoded lone surrogate, a byte-order
mark, a coding cookie, brackets, quotes, indentation, random bytes) at a line start or at any
byte, a byte replaced, the file cut at a byte. Mutation works on bytes; the text is decoded the
way the CLI decodes a file (`dlx_lint.engine.decode_source`).

For each mutant:
- linting (with ``raise_errors``, so a rule that crashes fails the test with its traceback)
  raises nothing and reports no ``DLX999`` internal error; bytes that do not decode give
  exactly one ``DLX902``;
- fix-all with unsafe fixes and every rule keeps a parsable (compilable) file parsable
  (compilable), drops no fix as broken and is stable on a second run
  (`tests.test_fix_properties.check_fix_all`); the fixed text re-lints cleanly;
- the CLI's byte path (`dlx_lint.fixes.files.fix_data`) re-encodes the fixed text so it
  decodes back to the same text; through a real file, `runner.lint_file` and
  `fixes.files.fix_file` agree with the in-memory path and a written file is stable.

Notebooks: the case notebook's JSON text is mutated at the byte level, and its code cells'
sources line by line; the notebook linter and fixer must raise nothing but `NotebookError` for
an unreadable notebook (which the linter reports as ``DLX902``), report no ``DLX999``, keep
outputs, and be stable.

The budget is fixed and derandomised (no example database), about 1,200 examples in all,
so the module takes 20-40 s on two cores. Bugs it found are kept below (FOUND) as explicit inputs.
For longer runs, raise ``DLX_FUZZ_EXAMPLES`` or use benchmarks/fuzz_atheris.py.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dlx_lint.engine import INTERNAL_ERROR, IO_ERROR, DecodeError, decode_source, lint_bytes, lint_source
from dlx_lint.fixer import compiles, fix_notebook, parses
from dlx_lint.fixes.files import fix_data, fix_file
from dlx_lint.notebook import NotebookError, lint_notebook
from dlx_lint.runner import lint_file

from .conftest import CASES, REPO
from .test_fix_properties import ALL, SAMPLE, check_fix_all

SCALE = max(1, int(os.environ.get("DLX_FUZZ_EXAMPLES", "1")))
CORPUS_SEEDS = 8  # files of the corpus sample, if present
CORPUS_MAX_BYTES = 40_000


def _seed_files() -> list[Path]:
    files = sorted(CASES.glob("*.py")) if CASES.is_dir() else []
    files += sorted((REPO / "tests" / "fixtures" / "bugs").glob("*.py"))
    small = [p for p in SAMPLE if p.stat().st_size <= CORPUS_MAX_BYTES]
    step = max(1, len(small) // CORPUS_SEEDS)
    files += small[::step][:CORPUS_SEEDS]
    return files


SEED_FILES = _seed_files()
SEEDS = [path.read_bytes() for path in SEED_FILES]
SEED_LINES = sorted({line for seed in SEEDS for line in seed.splitlines(keepends=True) if line.strip()})
NOTEBOOKS = sorted(CASES.glob("*.ipynb")) if CASES.is_dir() else []

# Bytes that tend to matter to a decoder, a tokenizer or a fix.
CHUNKS = [
    b"\x00", b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80",  # NUL, invalid UTF-8, a UTF-8-encoded lone surrogate
    b"\xef\xbb\xbf", b"\xff\xfe", "é".encode(), "\u2028".encode(), b"\x0c", b"\x1a", b"\r", b"\r\n", b"\t",
    b"# -*- coding: latin-1 -*-\n", b"# coding: utf-16\n", b"# coding: nonsense\n", b"# noqa\n", b"# noqa: DLX001\n",
    b"(", b")", b"[", b"]", b"{", b"}", b":", b",", b"\\", b"\\\n", b"'", b'"', b'"""', b"f'{", b"#", b"@",
    b"    ", b"\n    ", b"\n", b"pass\n", b"else:\n", b"async ", b"await ", b"yield ", b"global x\n", b"lambda: ",
    b":=", b"*", b"**", b"del ", b"return ", b"import torch\n", b"torch.", b".zero_grad()", b".step()",
    b".backward()", b"model.eval()\n", b"with torch.no_grad():\n", b"def f(x):\n", b"class M(nn.Module):\n",
]

def budget(examples: int) -> settings:
    """Fixed-seed hypothesis settings running `examples` examples (times DLX_FUZZ_EXAMPLES)."""
    return settings(
        max_examples=examples * SCALE, derandomize=True, database=None, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def _chunk() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.sampled_from(CHUNKS),
        st.binary(min_size=1, max_size=6),
        st.text(max_size=4).map(lambda s: s.encode("utf-8", "surrogatepass")),
    )


@st.composite
def mutate(draw, data: bytes) -> bytes:
    """`data` with one to four random edits (see the module docstring)."""
    for _ in range(draw(st.integers(1, 4))):
        lines = data.splitlines(keepends=True)
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "splice", "insert-line", "insert", "replace", "truncate"]))
        if kind in ("delete", "duplicate", "swap", "splice", "insert-line") and lines:
            i = draw(st.integers(0, len(lines) - 1))
            if kind == "delete":
                del lines[i]
            elif kind == "duplicate":
                lines.insert(i, lines[i])
            elif kind == "swap":
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            elif kind == "splice":
                lines.insert(i, draw(st.sampled_from(SEED_LINES)))
            else:
                lines.insert(i, draw(_chunk()))
            data = b"".join(lines)
        elif kind == "insert":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(_chunk()) + data[at:]
        elif kind == "replace" and data:
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + draw(_chunk()) + data[at + 1:]
        elif kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
    return data


def mutants() -> st.SearchStrategy[tuple[str, bytes]]:
    """(seed file name, mutated bytes)."""
    indices = st.integers(0, len(SEEDS) - 1)
    return indices.flatmap(lambda i: st.tuples(st.just(SEED_FILES[i].name), mutate(SEEDS[i])))


def assert_no_internal_error(diagnostics) -> None:
    """No ``DLX999`` among `diagnostics`."""
    errors = [f"{d.row}:{d.column} {d.message}" for d in diagnostics if d.code == INTERNAL_ERROR]
    assert not errors, errors


def check_mutant(name: str, data: bytes) -> None:
    """The in-memory pipeline: lint the bytes, fix the decoded text, re-lint, re-encode."""
    path = name
    diagnostics = lint_bytes(path, data, ALL, raise_errors=True)
    assert_no_internal_error(diagnostics)
    try:
        text = decode_source(data).text
    except DecodeError:
        assert [d.code for d in diagnostics] == [IO_ERROR]
        outcome = fix_data(path, data, ALL, unsafe=True, want_diff=True)
        assert outcome.new_data == data and not outcome.applied
        return
    assert IO_ERROR not in {d.code for d in diagnostics}
    result = check_fix_all(path, text)
    assert_no_internal_error(result.remaining)
    if result.applied:
        relinted = lint_source(path, result.text, ALL, raise_errors=True)
        assert_no_internal_error(relinted)
        assert [d.code for d in relinted] == [d.code for d in result.remaining]
    outcome = fix_data(path, data, ALL, unsafe=True, want_diff=True)
    if outcome.problem is None:
        assert decode_source(outcome.new_data).text == result.text
        assert bool(outcome.diff) == result.changed
    else:  # the fixed text cannot be written in the file's declared encoding
        assert "cannot be encoded" in outcome.problem and not outcome.applied


@budget(800)
@given(mutants())
def test_mutated_sources_lint_and_fix_cleanly(mutant):
    name, data = mutant
    check_mutant(name, data)


# Inputs the fuzzing found bugs with, exactly as found (run on every change, whatever the seeds).
FOUND = {
    # 213's `def train(...)` line deleted: the training loop became unreachable code at the end
    # of `validate`, which switches to eval; DLX008's fix inserted `model.eval()` before the
    # loop, but the loop calls `validate`, which ends with `model.train()`, so the finding
    # stayed and every fix run added one more `model.eval()` (ten passes, never stable).
    "dlx008-eval-before-a-loop-that-switches-back": (
        "213_nearmiss_eval_helper_restores_train.py",
        b'# kind: near-miss\n# source: https://github.com/wkentaro/pytorch-fcn/pull/56\n# rules: DLX009, DLX008, DLX010\n'
        b'# expected: none\n# shape: validation is called from inside the training loop; the helper switches to eval,\n'
        b'#   runs under no_grad and switches back to train before returning (the fixed form).\nimport torch\n'
        b'from torch import nn\n\n\ndef validate(model, val_batches, criterion):\n    model.eval()\n    total, count = 0.0, 0\n'
        b'    with torch.no_grad():\n        for images, masks in val_batches:\n'
        b'            total += criterion(model(images), masks).item()\n            count += 1\n    model.train()\n'
        b'    return total / max(count, 1)\n\n\n    criterion = nn.CrossEntropyLoss()\n'
        b'    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.99)\n    model.train()\n    step = 0\n'
        b'    for _ in range(epochs):\n        for images, masks in train_batches:\n            opt.zero_grad()\n'
        b'            loss = criterion(model(images), masks)\n            loss.backward()\n            opt.step()\n'
        b'            step += 1\n            if step % val_every == 0:\n'
        b'                print("val loss", validate(model, val_batches, criterion))\n    return model\n'
    ),
    # A line of another case spliced in as the first statement under `with torch.no_grad():`
    # makes the validation loop unreachable; DLX008 still reports its model call and offered
    # to insert `net.eval()` before the `with`, which cannot reach unreachable code: every run
    # added one more. (The found input minus the case's seven header comment lines.)
    "dlx008-eval-before-unreachable-code": (
        "134_hyperspectral_validation_without_eval.py",
        b'import torch\nfrom torch import nn\n\n\nclass SpectralCNN(nn.Module):\n    def __init__(self, n_classes: int):\n'
        b'        super().__init__()\n        self.features = nn.Sequential(\n'
        b'            nn.Conv3d(1, 20, (3, 3, 3), bias=False),\n            nn.BatchNorm3d(20),\n            nn.ReLU(),\n'
        b'            nn.Conv3d(20, 35, (3, 1, 1), stride=(2, 1, 1), bias=False),\n            nn.BatchNorm3d(35),\n'
        b'            nn.ReLU(),\n        )\n        self.drop = nn.Dropout(0.5)\n        self.head = nn.LazyLinear(n_classes)\n\n'
        b'    def forward(self, x):\n        x = self.features(x).flatten(1)\n        return self.head(self.drop(x))\n\n\n'
        b'def validate(net: SpectralCNN, val_loader, device, ignored_labels=(0,)):\n    correct, total = 0, 0\n'
        b'    with torch.no_grad():\n        return (per_attr * self.attr_weights).sum(dim=1).mean()\n'
        b'        for data, target in val_loader:\n            data, target = data.to(device), target.to(device)\n'
        b'            pred = net(data).argmax(dim=1)  # expect: DLX008\n'
        b'            keep = torch.ones_like(target, dtype=torch.bool)\n            for label in ignored_labels:\n'
        b'                keep &= target != label\n            correct += (pred[keep] == target[keep]).sum().item()\n'
        b'            total += keep.sum().item()\n    return correct / max(total, 1)\n'
    ),
    # A 4-byte UTF-8 character that libcst's tokenizer takes for a name but CPython 3.11 does
    # not (U+13460) inserted before a comment: libcst raised CSTValidationError out of the
    # parse, which escaped `lint_file`, the CLI's per-file function.
    "character-libcst-tokenizes-but-rejects": ("101_twin_view_trainer_zero_grad_before_step.py",
                                               b"\xf0\x93\x91\xa0# case: 101\nimport torch\nx = torch.zeros(3)\n"),
}


@pytest.mark.parametrize("name, data", FOUND.values(), ids=FOUND)
def test_inputs_found_by_fuzzing(name, data, tmp_path):
    check_mutant(name, data)
    path = tmp_path / name
    path.write_bytes(data)
    assert_no_internal_error(lint_file(str(path), ALL))


def test_the_cases_and_bug_fixtures_are_seeds(cases_dir):
    names = {p.name for p in SEED_FILES}
    assert {p.name for p in cases_dir.glob("*.py")} <= names
    assert {p.name for p in (REPO / "tests" / "fixtures" / "bugs").glob("*.py")} <= names
    assert NOTEBOOKS, f"no case notebook in {cases_dir}"


@budget(120)
@given(mutants())
def test_mutated_files_through_the_cli_file_path(mutant):
    name, data = mutant
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        with open(path, "wb") as handle:
            handle.write(data)
        on_disk = lint_file(path, ALL)
        assert_no_internal_error(on_disk)
        assert on_disk == lint_bytes(path, data, ALL)
        outcome = fix_file(path, ALL, unsafe=True, write=True, want_diff=False)
        assert_no_internal_error(outcome.diagnostics)
        with open(path, "rb") as handle:
            written = handle.read()
        assert outcome.written == (written != data)
        if outcome.written:
            text = decode_source(written).text
            assert parses(text)
            if compiles(decode_source(data).text):
                assert compiles(text)
            again = fix_file(path, ALL, unsafe=True, write=True, want_diff=False)
            assert not again.applied and not again.written
            assert [d.code for d in lint_file(path, ALL)] == [d.code for d in outcome.diagnostics]


def _notebook_seed() -> tuple[str, bytes]:
    path = NOTEBOOKS[0]
    return path.name, path.read_bytes()


@st.composite
def mutated_cells(draw, data: bytes) -> bytes:
    """The notebook `data` with the source of some code cells mutated line by line."""
    document = json.loads(data)
    code = [cell for cell in document["cells"] if cell.get("cell_type") == "code"]
    for cell in draw(st.lists(st.sampled_from(code), min_size=1, max_size=3)):
        source = cell["source"]
        text = "".join(source) if isinstance(source, list) else source
        new = draw(mutate(text.encode("utf-8"))).decode("utf-8", "replace")
        as_list = draw(st.booleans())
        cell["source"] = new.splitlines(keepends=True) if as_list else new
    return json.dumps(document, indent=draw(st.sampled_from([None, 1])), ensure_ascii=draw(st.booleans())).encode()


def notebook_mutants() -> st.SearchStrategy[tuple[str, bytes]]:
    """(notebook name, mutated bytes): the JSON text mutated, or the cells' sources."""
    if not NOTEBOOKS:
        return st.just(("missing.ipynb", b""))  # the seeds test reports the missing notebook
    name, data = _notebook_seed()
    return st.tuples(st.just(name), st.one_of(mutate(data), mutated_cells(data)))


def check_notebook(name: str, data: bytes) -> None:
    """Lint and fix one notebook's bytes."""
    diagnostics = lint_notebook(name, data, ALL)
    assert_no_internal_error(diagnostics)
    try:
        new, result = fix_notebook(name, data, ALL, unsafe=True)
    except NotebookError:
        assert [d.code for d in diagnostics] == [IO_ERROR]
        return
    assert IO_ERROR not in {d.code for d in diagnostics}
    assert not result.errors, [e.message for e in result.errors]
    assert_no_internal_error(result.remaining)
    if not result.applied:
        assert new == data
        return
    before, after = json.loads(data.decode("utf-8-sig")), json.loads(new.decode("utf-8-sig"))
    assert [c.get("outputs") for c in before["cells"]] == [c.get("outputs") for c in after["cells"]]
    assert [c.get("cell_type") for c in before["cells"]] == [c.get("cell_type") for c in after["cells"]]
    assert_no_internal_error(lint_notebook(name, new, ALL))
    again, second = fix_notebook(name, new, ALL, unsafe=True)
    assert again == new and not second.applied


@budget(250)
@given(notebook_mutants())
def test_mutated_notebooks_lint_and_fix_cleanly(mutant):
    name, data = mutant
    check_notebook(name, data)
