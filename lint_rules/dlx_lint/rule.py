"""The shape every rule module fills in: identity, explanation, examples and detection.

A rule is one class in one module under `dlx_lint.rules`. The class carries its metadata and
explanation as class attributes and implements `check`, which asks the file's semantic model
for facts and yields `Finding`s. The engine turns findings into `Diagnostic`s (positions,
severity overrides, suppression), so a rule never deals with positions or configuration.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterator

import libcst as cst

from .diagnostics import Applicability, Severity

if TYPE_CHECKING:
    from .fixes.spec import NodeFix
    from .semantic.model import SemanticModel


class FixAvailability(enum.Enum):
    """Whether a rule offers a fix: never, for some occurrences, or for every occurrence."""

    NEVER = "never"
    SOMETIMES = "sometimes"
    ALWAYS = "always"


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule reports: the node the diagnostic is attached to, the message, and
    optionally a fix.

    Attributes:
        node: the libcst node whose start is the reported position (the catalog's
            "Diagnostic location" table says which node for each rule).
        message: the diagnostic message for this occurrence.
        fix: the fix for this occurrence (changes to libcst nodes; see
            `dlx_lint.fixes.spec`), or a callable returning one (or None), or None. Prefer
            the callable (``functools.partial(_fix, model, node)``): it is only called for a
            finding that is reported, and an error while building the fix drops the fix,
            never the finding.
    """

    node: cst.CSTNode
    message: str
    fix: "NodeFix | Callable[[], NodeFix | None] | None" = None


@dataclass(frozen=True, slots=True)
class Reference:
    """A public source an explanation rests on."""

    title: str
    url: str


class Rule:
    """Base class of all rules. Subclasses set the class attributes and implement `check`.

    Class attributes:
        code: ``DLX`` + three digits; DLX0xx correctness, DLX1xx performance, DLX3xx
            deprecations, DLX9xx meta.
        name: kebab-case, unique; accepted wherever a code is.
        severity: default severity.
        enabled_by_default: whether a run without `select` includes the rule.
        requires: substrings at least one of which must occur in the source text for the rule
            to run at all (the prefilter; a file that never mentions torch is not parsed).
        summary: one line for `dlx-lint rule --all`.
        what, why, example, use_instead, fix_safety, limitations: explanation sections in
            Markdown (``example`` and ``use_instead`` are Python code).
        references: public sources.
        bad_examples: snippets whose offending lines end with ``# expect: CODE``.
        good_examples: snippets on which the rule must stay silent.
        fix_availability, fix_applicability: the fix the rule offers (see issue on fixes).
        no_torch_proof: why the rule's claim cannot be demonstrated on a CPU within a second
            (tests/test_torch_proofs.py demonstrates every other rule on real torch).
        fixed_examples: for a rule with a fix, one text per bad example: that example after
            ``dlx-lint check --fix --unsafe-fixes --select CODE`` (the example itself when no
            fix applies to it, e.g. a display-only one). The contract test checks them.
        fix_availability: whether findings carry a fix never, sometimes or always (the
            contract test checks it against the bad examples).
        fix_applicability: the default applicability of the rule's fixes (a `NodeFix` may
            override it per occurrence); ``None`` means safe.

    Adding a fix to a rule is local to its module:

    1. In `check`, build a `dlx_lint.fixes.spec.NodeFix` (a title plus changes such as
       ``Replace(node, new)``, ``InsertBefore(statement, ("m.eval()",))``,
       ``AddImport("import math")``) in a function of the module, and pass it as
       ``Finding(node, message, fix=functools.partial(_fix, model, node))``. New
       code may be libcst nodes or source text; `dlx_lint.fixes.helpers` spells a qualified
       name with the file's own imports (`spell`), parenthesises a receiver
       (`as_receiver`), appends a keyword argument (`add_keyword`) and finds the statement
       to insert next to (`statement_in_block`). Raise `FixUnavailable` (or return no fix)
       when the fix is not certain to keep the code valid and meaningful.
    2. Set `fix_availability`, `fix_applicability` (safe / unsafe / display-only) and, when
       any fix is unsafe, a `fix_safety` section saying what could change.
    3. Add `fixed_examples` (one per bad example).

    The engine renders the changes, drops a fix whose changes would touch a line carrying a
    ``# noqa`` for the rule, and the fixer drops (and reports) any fix whose result does not
    parse.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    enabled_by_default: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    summary: ClassVar[str]
    what: ClassVar[str]
    why: ClassVar[str]
    example: ClassVar[str]
    use_instead: ClassVar[str]
    fix_safety: ClassVar[str] = ""
    limitations: ClassVar[str] = ""
    references: ClassVar[tuple[Reference, ...]] = ()
    bad_examples: ClassVar[tuple[str, ...]] = ()
    good_examples: ClassVar[tuple[str, ...]] = ()
    fixed_examples: ClassVar[tuple[str, ...]] = ()
    fix_availability: ClassVar[FixAvailability] = FixAvailability.NEVER
    fix_applicability: ClassVar[Applicability | None] = None
    no_torch_proof: ClassVar[str] = ""

    def check(self, model: "SemanticModel") -> Iterator[Finding]:
        """Yield the findings of this rule in one file.

        Args:
            model: the file's semantic model (parsed module plus the shared analyses).
        """
        raise NotImplementedError

    def severity_for(self, model: "SemanticModel", finding: Finding) -> Severity:
        """The severity of one finding; rules whose severity depends on context override this."""
        return self.severity
