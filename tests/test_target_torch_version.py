"""`target-torch-version` changes what DLX025 says: from PyTorch 2.6 the default of
`torch.load` is already `weights_only=True` (PyTorch docs: torch.load), so the finding is
informational and must not claim that the load unpickles arbitrary objects."""

from __future__ import annotations

from dlx_lint import Settings, Severity, lint_source

SOURCE = "import torch\n\nstate = torch.load('model.pt')\n"


def _only(settings):
    (diagnostic,) = lint_source("resume.py", SOURCE, settings)
    assert diagnostic.code == "DLX025"
    return diagnostic


def test_without_a_target_the_load_is_a_warning_about_older_releases():
    diagnostic = _only(Settings())
    assert diagnostic.severity is Severity.WARNING
    assert "unpickles arbitrary objects on PyTorch < 2.6" in diagnostic.message


def test_target_2_6_or_later_is_informational_and_says_the_default_is_safe():
    for target in ((2, 6), (2, 13)):
        diagnostic = _only(Settings(target_torch_version=target))
        assert diagnostic.severity is Severity.INFO
        assert "unpickles" not in diagnostic.message and "`True` since PyTorch 2.6" in diagnostic.message


def test_target_older_than_2_6_keeps_the_warning():
    diagnostic = _only(Settings(target_torch_version=(2, 5)))
    assert "unpickles arbitrary objects on PyTorch < 2.6" in diagnostic.message
