"""The ``junit`` format: JUnit XML for CI test-report views (GitLab ``reports:junit``,
Jenkins, Azure Pipelines).

Granularity (ruff's): one ``<testsuite>`` per file with findings and one failing
``<testcase>`` per finding, so each finding is listed, with its rule, position and message,
where a CI shows failed tests. Files without findings are not listed: the report is built from
the diagnostics alone. A clean run has one suite ``dlx-lint`` with one passing test case, so a
CI that rejects an empty report (or counts "0 tests" as a failure) stays green.

Test case: ``name`` is ``CODE name`` (the rule), ``classname`` the file path, ``line`` the row;
``<failure message=MESSAGE type=CODE>`` holds ``line R, col C[, cell N]: MESSAGE``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby
from typing import Sequence

from ..diagnostics import Diagnostic

SUMMARY = False

# Characters XML 1.0 cannot carry, even escaped (C0 controls other than tab, LF, CR; lone
# surrogates; U+FFFE/U+FFFF). They become U+FFFD so the document always parses.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

NAME = "dlx-lint"


def render(diagnostics: Sequence[Diagnostic]) -> str:
    """The XML document, with an XML declaration, ending with a newline."""
    from ..engine import display_path

    total = len(diagnostics)
    root = ET.Element("testsuites", name=NAME, tests=str(max(total, 1)), failures=str(total), errors="0")
    if not diagnostics:
        suite = ET.SubElement(root, "testsuite", name=NAME, tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="No errors found", classname=NAME)
    for filename, group in groupby(sorted(diagnostics, key=Diagnostic.sort_key), key=lambda d: d.filename):
        found = list(group)
        path = display_path(filename)
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(len(found)), failures=str(len(found)), errors="0")
        for diagnostic in found:
            case = ET.SubElement(
                suite, "testcase", name=f"{diagnostic.code} {diagnostic.name}", classname=path,
                file=path, line=str(diagnostic.row),
            )
            where = f"line {diagnostic.row}, col {diagnostic.column}"
            if diagnostic.cell is not None:
                where += f", cell {diagnostic.cell}"
            failure = ET.SubElement(case, "failure", message=diagnostic.message, type=diagnostic.code)
            failure.text = f"{where}: {diagnostic.message}"
    for element in root.iter():
        element.attrib = {key: _clean(value) for key, value in element.attrib.items()}
        if element.text:
            element.text = _clean(element.text)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
