"""Expert hovers on the engine side (`dlx_lint.expert.hover`): what is under the cursor, the
Markdown for estimates and concept notes, memory figures, and the concept data file."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from dlx_lint.diagnostics import rule_url
from dlx_lint.expert.concepts import all_concepts, concept_for
from dlx_lint.expert.hover import expert_hover
from dlx_lint.expert.locate import HoverTargets
from dlx_lint.expert.memory import format_bytes, format_count, short_count, training_bytes, weight_bytes
from dlx_lint.registry import find_rule
from dlx_lint.semantic.model import SemanticModel

SOURCE = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    from torch.optim import AdamW
    from torch.utils.data import DataLoader


    class Net(nn.Module):
        def __init__(self, d=512):
            super().__init__()
            self.fc = nn.Linear(d, 4 * d)
            self.drop = nn.Dropout(0.1)


    def train(model: Net, loader: DataLoader):
        criterion = nn.CrossEntropyLoss()
        opt = AdamW(model.parameters())
        layer = nn.Linear(4096, 11008)
        return criterion, opt, layer
    ''')


def _model(text: str = SOURCE, path: str = "train.py", resolver=None) -> SemanticModel:
    return SemanticModel(cst.parse_module(text), text, path, None, resolver=resolver)


def _position(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """(1-based row, 0-based column) of `needle` (+ offset) in `text`."""
    index = text.index(needle) + offset
    row = text.count("\n", 0, index) + 1
    return row, index - (text.rfind("\n", 0, index) + 1)


def _hover(needle: str, offset: int = 0, text: str = SOURCE, **kwargs) -> str | None:
    model = _model(text, **kwargs)
    found = expert_hover(model, *_position(text, needle, offset))
    return found[0] if found else None


def test_layer_call_shows_count_formula_source_and_memory():
    value = _hover("Linear(4096", 2)
    assert "`nn.Linear(4096, 11008)`: **45,099,776 (45.1 M) parameters**" in value  # 4096 × 11008 + 11008
    assert "in_features × out_features + out_features (bias)" in value
    assert "https://docs.pytorch.org/docs/stable/generated/torch.nn.Linear.html" in value
    assert "| weights, fp32 | 172 MiB |" in value
    assert "| weights, bf16 / fp16 | 86 MiB |" in value
    assert "| weights, int8 | 43 MiB |" in value
    assert "| training with Adam (16 B/param) | 688 MiB |" in value
    assert "Activations" in value and "not included" in value


def test_layer_in_a_class_uses_the_init_default_and_says_so():
    value = _hover("Linear(d, 4 * d)", 1)
    assert f"{512 * 2048 + 2048:,}" in value
    assert "Assumed: `d` = 512 (the default of `Net.__init__`)" in value


def test_class_definition_shows_the_total_and_its_parts():
    value = _hover("class Net", 7)
    assert f"`Net`: **{512 * 2048 + 2048:,}" in value
    assert "| `fc` `nn.Linear(d, 4 * d)` |" in value


def test_concept_note_on_a_loss_links_its_rules_and_sources():
    value = _hover("CrossEntropyLoss()", 3)
    assert "**Cross-entropy loss** (`torch.nn.CrossEntropyLoss`)" in value
    assert f"[DLX011]({rule_url('DLX011', 'probabilities-into-logits-loss')})" in value
    assert "https://docs.pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html" in value
    assert "parameters" not in value.split("**Cross-entropy")[0]  # a loss has no parameters: no estimate


def test_concept_notes_on_imports_annotations_and_dropout():
    assert "**Adam and AdamW**" in _hover("import AdamW", 8)
    assert "**DataLoader**" in _hover("loader: DataLoader", 10)
    assert "**Dropout**" in _hover("Dropout(0.1)", 1)
    assert "**Adam and AdamW**" in _hover("AdamW(model", 1)


def test_annotation_naming_a_module_class_shows_its_estimate():
    value = _hover("model: Net", 8)
    assert "`Net`:" in value and "parameters" in value


def test_nothing_to_say_gives_no_hover():
    assert _hover("return criterion", 2) is None
    assert _hover("super().__init__", 2) is None


def test_targets_are_found_by_position_including_just_after_a_name():
    model = _model()
    targets = HoverTargets(model)
    row, column = _position(SOURCE, "Linear(4096")
    assert targets.at(row, column).kind == "call"
    assert targets.at(row, column + len("Linear")).kind == "call"
    assert targets.at(row, column - 1) is None  # the dot of `nn.Linear`: only the callee's name is a target


def test_unicode_columns_are_code_points():
    text = "import torch.nn as nn\nnom = 'é😀'; layer = nn.Linear(2, 3)\n"
    model = _model(text)
    row, column = _position(text, "Linear")
    found = expert_hover(model, row, column + 1)
    assert found is not None and "9 parameters" in found[0]
    assert found[1] == (row, column, row, column + len("Linear"))


def test_a_class_of_another_file_through_the_resolver(tmp_path: Path):
    pytest.importorskip("jedi")
    from dlx_lint import crossfile

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "models.py").write_text(textwrap.dedent('''\
        import torch.nn as nn


        class Encoder(nn.Module):
            def __init__(self, vocab=1000, dim=64):
                super().__init__()
                self.embed = nn.Embedding(vocab, dim)
                self.rnn = nn.GRU(dim, dim, batch_first=True)
        '''))
    text = "from models import Encoder\n\nencoder = Encoder(dim=32)\n"
    path = tmp_path / "train.py"
    path.write_text(text)
    resolver = crossfile.resolver_for(str(path))
    on_call = _hover("Encoder(dim", 2, text=text, path=str(path), resolver=resolver)
    gru = 3 * 32 * (32 + 32) + 2 * 3 * 32
    assert f"`Encoder` (defined in `models.py`): **{1000 * 32 + gru:,}" in on_call
    on_import = _hover("import Encoder", 9, text=text, path=str(path), resolver=resolver)
    assert f"**{1000 * 64 + 3 * 64 * 128 + 6 * 64:,}" in on_import  # the defaults: dim=64
    assert "`dim` = 64 (the default of `Encoder.__init__`)" in on_import
    assert _hover("Encoder(dim", 2, text=text, path=str(path)) is None  # no resolver: not known


def test_memory_formulas():
    assert weight_bytes(1000, 2) == 2000
    assert training_bytes(1000) == 16_000  # 4 (weights) + 4 (grads) + 8 (two Adam moments)
    assert format_bytes(0) == "0 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(45_099_776 * 4) == "172 MiB"
    assert format_bytes(7 * 1024**3) == "7 GiB"
    assert format_count(45_099_776) == "45,099,776 (45.1 M)"
    assert format_count(999) == "999"
    assert short_count(7_241_732_096) == "7.24B"


# --------------------------------------------------------------------------- concept data

REQUIRED = [
    "torch.nn.MultiheadAttention", "torch.nn.functional.scaled_dot_product_attention", "torch.nn.CrossEntropyLoss",
    "torch.nn.BCEWithLogitsLoss", "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d",
    "torch.nn.LayerNorm", "torch.nn.Dropout", "torch.optim.AdamW", "torch.amp.GradScaler", "torch.autocast",
    "torch.nn.utils.clip_grad_norm_", "torch.optim.lr_scheduler.StepLR", "torch.optim.lr_scheduler.OneCycleLR",
    "torch.utils.data.DataLoader",
]


@pytest.mark.parametrize("qualname", REQUIRED)
def test_every_core_api_has_a_concept_note(qualname):
    assert concept_for(qualname) is not None


def test_unrelated_names_have_no_note():
    assert concept_for("torch.nn.Linear") is None
    assert concept_for("mylib.CrossEntropyLoss") is None


def test_every_note_is_complete_sourced_and_links_real_rules():
    concepts = all_concepts()
    assert len({c.key for c in concepts}) == len(concepts)
    for concept in concepts:
        assert concept.title and concept.computes and concept.names
        assert concept.sources and all(s.url.startswith("https://") for s in concept.sources)
        for mistake in concept.mistakes:
            for code in re.findall(r"DLX\d{3}", mistake):
                assert find_rule(code) is not None, f"{concept.key} mentions unknown rule {code}"
