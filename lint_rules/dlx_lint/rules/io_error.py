"""DLX902 io-error: the file cannot be read or decoded as Python source."""

from __future__ import annotations

from ..diagnostics import Severity
from ..rule import Reference, Rule


class IoErrorRule(Rule):
    code = "DLX902"
    name = "io-error"
    severity = Severity.ERROR
    requires = ()  # reported by the runner when reading or decoding fails
    summary = "the file cannot be read, or is not text in its declared encoding"
    what = (
        "Reports a file that could not be read (permissions, vanished), a binary file (NUL "
        "bytes), UTF-16 or UTF-32 text (which Python cannot run), bytes that are not valid in "
        "the file's encoding (UTF-8 unless a BOM or a PEP 263 `# -*- coding: ... -*-` comment "
        "says otherwise), a notebook that is not nbformat 4 JSON, or a source of more than "
        "1,250,000 characters (generated code; it is not analysed)."
    )
    why = "A file that cannot be read is not checked; saying so beats skipping it silently."
    example = "# a Latin-1 file without a coding declaration\nname = 'caf\\xe9'\n"
    use_instead = "# -*- coding: latin-1 -*-\nname = 'caf\\xe9'\n"
    references = (Reference("PEP 263: Defining Python Source Code Encodings", "https://peps.python.org/pep-0263/"),)

    def check(self, model):
        return iter(())
