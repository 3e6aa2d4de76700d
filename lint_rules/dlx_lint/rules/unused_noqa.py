"""DLX901 unused-noqa: a ``# noqa: DLX...`` directive that suppresses nothing."""

from __future__ import annotations

from ..diagnostics import Severity
from ..rule import Reference, Rule


class UnusedNoqaRule(Rule):
    code = "DLX901"
    name = "unused-noqa"
    severity = Severity.INFO
    enabled_by_default = False
    # Reported by the engine after suppression (`engine.unused_noqa_diagnostics`), never by a
    # check: it needs to know which directives the other rules' findings used.
    requires = ()
    summary = "a `# noqa` directive lists dlx-lint codes that suppress nothing"
    what = (
        "Reports a `# noqa: ...` comment that lists a dlx-lint rule (by code or name) which "
        "reported nothing on that line, and codes shaped like dlx-lint's (`DLX` and three "
        "digits) that name no rule at all. One diagnostic per directive lists the unused and "
        "the unknown codes."
    )
    why = (
        "A suppression outlives the code it was written for: after a refactor the line no "
        "longer has the bug, but the comment stays and silently hides the next real finding "
        "of that rule on the line. A misspelt code suppresses nothing while looking as if it "
        "did. Removing stale directives keeps every `# noqa` meaningful."
    )
    example = (
        "import torch\n\n"
        "checkpoint = torch.load(path, weights_only=True)  # noqa: DLX025\n"
    )
    use_instead = (
        "import torch\n\n"
        "checkpoint = torch.load(path, weights_only=True)\n"
    )
    limitations = (
        "Only codes of enabled rules count: a directive for a rule that is not selected (or "
        "is ignored for the file) is left alone, as another configuration may enable it. A "
        "bare `# noqa` and codes of other tools (`E501`, `F401`) are never reported, since "
        "they speak to other linters too. A rule that failed on the file (DLX999) makes its "
        "codes uncheckable there. Listing `DLX901` (or `unused-noqa`) in a directive exempts "
        "that directive. Off by default: enable it with `--extend-select DLX901`; its examples "
        "below run with the default rules enabled as well, since with DLX901 alone no other "
        "code is checkable."
    )
    references = (
        Reference("ruff rule RUF100 unused-noqa", "https://docs.astral.sh/ruff/rules/unused-noqa/"),
        Reference("flake8: selecting and ignoring violations (noqa)", "https://flake8.pycqa.org/en/latest/user/violations.html#in-line-ignoring-errors"),
    )
    # The `# expect:` marker is a comment after the directive; the directive's codes end at
    # the first character that cannot be part of a code, so the marker is not read as one.
    bad_examples = (
        "import torch\n"
        "ckpt = torch.load('m.pt', weights_only=True)  # noqa: DLX025  # expect: DLX901\n",
        "import torch\n"
        "x = torch.zeros(3)\n"
        "y = x + 1  # noqa: nan-equality, DLX998  # expect: DLX901\n"
        "z = torch.log(x)  # noqa: E501, DLX014\n",
    )
    good_examples = (
        "import torch\n"
        "ckpt = torch.load('m.pt')  # noqa: DLX025\n"
        "x = 1  # noqa\n"
        "y = 2  # noqa: E501, F401\n"
        "z = 3  # noqa: DLX025, DLX901\n",
    )

    def check(self, model):
        return iter(())
