"""DLX900 syntax-error: the file does not parse."""

from __future__ import annotations

from ..diagnostics import Severity
from ..rule import Reference, Rule


class SyntaxErrorRule(Rule):
    code = "DLX900"
    name = "syntax-error"
    severity = Severity.ERROR
    requires = ()  # reported by the engine when parsing fails, never by a check
    summary = "the file does not parse as Python"
    what = (
        "Reports a file that libcst cannot parse, at the parser's position, with its message; also "
        "a file nested deeper than CPython itself accepts (more than 200 nested brackets, 100 "
        "indentation levels, or about 3,000 nested expressions), which is refused before libcst "
        "parses it (its native parser could overflow the stack)."
    )
    why = (
        "A file that does not parse cannot be analysed, so none of its other problems can be "
        "reported; the rest of the run goes on with the other files."
    )
    example = "loss = criterion(model(x), y\n"
    use_instead = "loss = criterion(model(x), y)\n"
    limitations = (
        "Files that never mention `torch` are not parsed at all (no rule applies to them), so "
        "their syntax errors are not reported: dlx-lint is not a general Python linter. "
        "The position is libcst's, which can differ by a line or two from CPython's for an "
        "unclosed bracket."
    )
    references = (Reference("libcst parser", "https://libcst.readthedocs.io/en/latest/parser.html"),)

    def check(self, model):
        return iter(())
