"""The engine: (path, source text, settings) -> sorted diagnostics.

Pipeline: prefilter (rules whose `requires` text is absent are skipped; a file no enabled
rule applies to is not parsed) -> libcst parse -> semantic model -> every enabled rule ->
positions of the reported nodes -> ``# noqa`` suppression -> fixes rendered as text edits ->
sort. The CLI, the language server and the tests all call `lint_source` (or `lint_bytes` for
raw file contents); `dlx_lint.fixer` applies the fixes.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import tokenize
from dataclasses import dataclass

import libcst as cst

from .diagnostics import Applicability, Diagnostic, Fix, Severity, rule_url
from .parsing import forget_last_parsed, parse_module
from .positions import compute_positions
from .registry import all_rules, rules_by_code
from .rule import Finding, Rule
from .semantic.model import SemanticModel
from .fixes.apply import LineIndex, modified_rows
from .fixes.build import nodes_needed
from .fixes.build import plan as plan_fix
from .fixes.build import render as render_fix
from .fixes.spec import FixUnavailable
from .settings import Settings
from .suppression import find_unused, is_suppressed, noqa_rows, parse_noqa

SYNTAX_ERROR = "DLX900"
UNUSED_NOQA = "DLX901"
IO_ERROR = "DLX902"
INTERNAL_ERROR = "DLX999"

_DEFAULT_SETTINGS = Settings()

MAX_SOURCE_CHARS = 1_250_000
"""Longer texts are not analysed (one DLX902 says so): libcst needs 600 to 1,200 bytes of
memory and a few microseconds per character (the most for short statements full of findings:
a 2,000,000-character file of them took 2.4 GB and 42 s), so a 10 MB generated file would take
minutes and gigabytes. At this limit the worst shape measured stays under 1.6 GB, within the
2 GB the hostile-input tests allow. Real PyTorch modules stay far below (the largest in
transformers: 280 KB)."""

# UTF-32 first: its little-endian mark starts with UTF-16's.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"),
)


class DecodeError(ValueError):
    """The bytes of a file cannot be read as Python source text."""


@dataclass(frozen=True)
class DecodedSource:
    """Source text plus what is needed to write it back byte-for-byte.

    Attributes:
        text: the decoded text (newlines as in the file).
        encoding: the codec used (``utf-8``, ``utf-8-sig`` for a BOM, or the PEP 263 one).
    """

    text: str
    encoding: str


def decode_source(data: bytes) -> DecodedSource:
    """Decode Python source bytes as the interpreter would (BOM, PEP 263 cookie, else UTF-8).

    Raises:
        DecodeError: for NUL bytes (a binary file), an unknown declared encoding, or bytes
            invalid in the encoding; the message says which and where.
    """
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise DecodeError(
                f"{name} text (byte-order mark {bom.hex(' ').upper()}); Python source must be UTF-8 or an "
                "8-bit encoding declared with a `# -*- coding: ... -*-` comment: save it as UTF-8"
            )
    if b"\x00" in data:
        raise DecodeError("binary file (contains NUL bytes); not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise DecodeError(str(error)) from None
    try:
        codecs.lookup(encoding)
        text = data.decode(encoding)
    except LookupError:
        raise DecodeError(f"unknown encoding {encoding!r} declared") from None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DecodeError(
            f"not valid {encoding} (byte 0x{data[error.start]:02x} at line {line}); "
            "declare the encoding with a `# -*- coding: ... -*-` comment"
        ) from None
    if encoding == "utf-8-sig" and text.startswith("\ufeff"):
        text = text[1:]
    return DecodedSource(text, encoding)


NOTEBOOK_SUFFIX = ".ipynb"


def lint_source(path: str, source: str, settings: Settings | None = None, *, raise_errors: bool = False) -> list[Diagnostic]:
    """Lint one file's text, as the CLI would: Python source, or a Jupyter notebook's JSON
    when `path` ends in ``.ipynb`` (then diagnostics carry ``cell`` and cell-relative rows,
    see `dlx_lint.notebook`; a text that is not notebook JSON gives one ``DLX902``).

    Args and Returns: as `lint_python_source` (`raise_errors` applies to Python source).
    """
    if path.endswith(NOTEBOOK_SUFFIX):
        from .notebook import lint_notebook

        return lint_notebook(path, source.encode("utf-8", "surrogatepass"), settings or _DEFAULT_SETTINGS)
    return lint_python_source(path, source, settings, raise_errors=raise_errors)


def lint_python_source(path: str, source: str, settings: Settings | None = None, *, raise_errors: bool = False) -> list[Diagnostic]:
    """Lint one Python source text, whatever the path's suffix (a notebook's joined cells).

    Args:
        path: the file's path (used for per-file ignores and in the diagnostics).
        source: the text.
        settings: effective settings; defaults when None.
        raise_errors: re-raise a rule's internal exception instead of reporting it as a
            ``DLX999 internal-error`` diagnostic (the tests use this).

    Returns:
        Diagnostics sorted by (row, column, code), suppressed ones removed.
    """
    settings = settings or _DEFAULT_SETTINGS
    enabled = settings.enabled_codes(path)
    rules = applicable_rules(source, enabled)
    if not rules:
        if UNUSED_NOQA in enabled:  # no rule can fire, so every checkable directive is unused
            return unused_noqa_diagnostics(path, source, parse_noqa(source), {}, enabled, settings)
        return []
    if len(source) > MAX_SOURCE_CHARS:
        return [too_large_diagnostic(path, len(source), settings)] if IO_ERROR in enabled else []
    try:
        module = parse_module(source)
    except cst.ParserSyntaxError as error:
        if SYNTAX_ERROR not in enabled:
            return []
        return [syntax_error_diagnostic(path, error, settings)]
    except (RecursionError, MemoryError):
        if SYNTAX_ERROR not in enabled:
            return []
        return [file_diagnostic(SYNTAX_ERROR, path, "file too deeply nested to parse", settings)]
    try:
        return analyse(module, source, path, rules, settings, raise_errors=raise_errors)
    finally:
        forget_last_parsed()  # a long-lived server thread need not keep this tree alive


def analyse(module: cst.Module, source: str, path: str, rules: list[Rule], settings: Settings, *,
            raise_errors: bool = False) -> list[Diagnostic]:
    """Build the semantic model of a parsed file and run `rules` over it.

    Nothing escapes (unless `raise_errors`): a tree too deep for the recursive analysis
    (deeper than `MAX_TREE_DEPTH` levels, which CPython accepts up to about 3,000) gives one
    DLX900 saying so; any other failure one DLX999.
    """
    try:
        model = build_model(module, source, path, settings)
        return check_model(model, rules, settings, raise_errors=raise_errors)
    except RecursionError as error:
        if tree_deeper_than(module, MAX_TREE_DEPTH):
            if SYNTAX_ERROR not in settings.enabled_codes(path):
                return []
            return [file_diagnostic(
                SYNTAX_ERROR, path,
                f"nested too deeply to analyse (more than {MAX_TREE_DEPTH} levels of syntax); the file was not checked",
                settings,
            )]
        if raise_errors:
            raise
        return [internal_error_diagnostic(path, error, settings)]
    except Exception as error:  # the semantic model failed: report it, never take the run down
        if raise_errors:
            raise
        return [internal_error_diagnostic(path, error, settings)]


MAX_TREE_DEPTH = 150
"""The analysis walks the libcst tree recursively and runs out of Python stack at about 400
levels of nesting; real code stays under 40 (the deepest file of the corpus: 32). A
RecursionError on a tree deeper than this is that limit, not a bug."""


def tree_deeper_than(module: cst.CSTNode, limit: int) -> bool:
    """Whether some path from `module` down the tree has more than `limit` nodes (iterative;
    used only after a RecursionError)."""
    stack = [(module, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in node.children)
    return False


def internal_error_diagnostic(path: str, error: BaseException, settings: Settings | None = None, what: str = "analysing this file") -> Diagnostic:
    """The DLX999 diagnostic for an unexpected failure outside a rule (one line)."""
    if isinstance(error, RecursionError):
        reason = "too deeply nested to analyse (RecursionError)"
    elif isinstance(error, MemoryError):
        reason = "out of memory (MemoryError)"
    else:
        reason = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    return file_diagnostic(INTERNAL_ERROR, path, f"dlx-lint failed {what}: {reason}; please report it",
                           settings or _DEFAULT_SETTINGS)


def too_large_diagnostic(path: str, size: int, settings: Settings) -> Diagnostic:
    """The DLX902 diagnostic for a text over `MAX_SOURCE_CHARS`."""
    return file_diagnostic(
        IO_ERROR, path,
        f"file too large to analyse ({size:,} characters; the limit is {MAX_SOURCE_CHARS:,}): "
        "generated code? exclude it",
        settings,
    )


def build_model(module: cst.Module, source: str, path: str, settings: Settings) -> SemanticModel:
    """The semantic model of a parsed file, with the cross-file resolver of its workspace when
    ``settings.cross_file`` is on (and the file is on disk and jedi is installed)."""
    resolver = None
    if settings.cross_file:
        from .crossfile import resolver_for

        resolver = resolver_for(path, settings)
    return SemanticModel(module, source, path, settings, resolver=resolver)


def applicable_rules(source: str, enabled: frozenset[str]) -> list[Rule]:
    """The prefilter: enabled rules whose `requires` text occurs in `source`, in a file that
    mentions ``torch`` at all (every rule is about PyTorch code; ``torchvision`` and
    ``functorch`` contain the word). When this is empty the file is not parsed."""
    if "torch" not in source:
        return []
    return [
        rule
        for rule in all_rules()
        if rule.code in enabled and rule.requires and any(text in source for text in rule.requires)
    ]


def check_model(model: SemanticModel, rules: list[Rule], settings: Settings, *, raise_errors: bool = False) -> list[Diagnostic]:
    """Run `rules` over a built model and turn their findings into diagnostics."""
    path = model.path
    found: list[tuple[Rule, Finding]] = []
    errors: list[Diagnostic] = []
    failed: set[str] = set()
    seen: set[tuple[str, int]] = set()
    request = getattr(model.resolver, "request", None)
    with request() if request is not None else contextlib.nullcontext():  # one time budget for the file
        for rule in rules:
            try:
                for finding in rule.check(model):
                    key = (rule.code, id(finding.node))
                    if key not in seen:
                        seen.add(key)
                        found.append((rule, finding))
            except RecursionError:
                raise  # the tree is too deep for every rule: `analyse` reports it once
            except Exception as error:  # a crashing rule must not take the run down
                if raise_errors:
                    raise
                failed.add(rule.code)
                errors.append(file_diagnostic(
                    INTERNAL_ERROR, path,
                    f"rule {rule.code} ({rule.name}) failed on this file: {type(error).__name__}: {error}; please report it",
                    settings,
                ))
    enabled = settings.enabled_codes(path)
    track_noqa = UNUSED_NOQA in enabled
    if not found and not track_noqa:
        return errors
    plans = _plan_fixes(model, found, raise_errors)
    span_nodes = [finding.node for _, finding in found]
    range_nodes = []
    for _, ops in plans.values():
        more_spans, more_ranges = nodes_needed(ops)
        span_nodes += more_spans
        range_nodes += more_ranges
    spans, ranges = compute_positions(model.module, span_nodes, range_nodes, model.parent) if span_nodes else ({}, {})
    noqa = parse_noqa(model.source)
    comment_rows = noqa_rows(model.source) if found else {}
    used: dict[int, set[str]] = {}  # directive row -> codes it suppressed (for DLX901)
    index = LineIndex(model.source) if plans else None
    diagnostics: list[Diagnostic] = []
    for number, (rule, finding) in enumerate(found):
        span = spans.get(finding.node)
        if span is None:
            continue
        row, column, end_row, end_column = span
        noqa_row = comment_rows.get(row, row)
        if is_suppressed(noqa.get(noqa_row), rule.code, rule.name):
            used.setdefault(noqa_row, set()).add(rule.code)
            continue
        fix = None
        if number in plans:
            fix = _render_fix(model, index, rule, plans[number], spans, ranges, noqa, settings, raise_errors)
        severity = settings.severity_of(rule.code, rule.severity_for(model, finding))
        diagnostics.append(Diagnostic(
            code=rule.code,
            name=rule.name,
            message=finding.message,
            severity=severity,
            filename=path,
            row=row,
            column=column + 1,
            end_row=end_row,
            end_column=end_column + 1,
            noqa_row=noqa_row,
            fix=fix,
            url=rule_url(rule.code, rule.name),
        ))
    diagnostics.extend(errors)
    if track_noqa:
        diagnostics.extend(unused_noqa_diagnostics(path, model.source, noqa, used, enabled - failed, settings))
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics


def unused_noqa_diagnostics(path: str, source: str, noqa: dict, used: dict[int, set[str]], checkable: frozenset[str], settings: Settings) -> list[Diagnostic]:
    """DLX901 diagnostics for the ``# noqa`` directives of `source` that list codes suppressing
    nothing (see `dlx_lint.suppression.find_unused` for what counts), one per directive, at
    the directive's position. `used` maps a directive's row to the codes it suppressed."""
    from .registry import find_rule

    rule = rules_by_code()[UNUSED_NOQA]
    exempt = frozenset({UNUSED_NOQA})
    result = []
    for unused in find_unused(noqa, used, checkable, find_rule, exempt):
        directive = unused.directive
        result.append(Diagnostic(
            code=rule.code,
            name=rule.name,
            message=unused.message(),
            severity=settings.severity_of(rule.code, rule.severity),
            filename=path,
            row=directive.row,
            column=directive.column,
            end_row=directive.row,
            end_column=directive.end_column,
            noqa_row=directive.row,
            url=rule_url(rule.code, rule.name),
        ))
    return result


def _plan_fixes(model: SemanticModel, found: list[tuple[Rule, Finding]], raise_errors: bool) -> dict[int, tuple]:
    """Finding index -> (the rule's `NodeFix`, its planned operations), for findings whose fix
    can be planned. A fix that fails to build is dropped; the finding stays."""
    plans: dict[int, tuple] = {}
    for number, (rule, finding) in enumerate(found):
        if finding.fix is None:
            continue
        try:
            spec = finding.fix() if callable(finding.fix) else finding.fix
            if spec is None:
                continue
            plans[number] = (spec, plan_fix(model.module, model.parent, spec))
        except FixUnavailable:
            continue
        except Exception:  # a broken fix must not take the diagnostic down
            if raise_errors:
                raise
    return plans


def _render_fix(model, index, rule, planned, spans, ranges, noqa, settings, raise_errors) -> Fix | None:
    """The text fix of one finding, or None when it cannot be rendered or would change a line
    whose ``# noqa`` suppresses this rule (a suppressed line is never rewritten)."""
    spec, ops = planned
    try:
        edits = render_fix(model.module, index, ops, spans, ranges)
    except FixUnavailable:
        return None
    except Exception:
        if raise_errors:
            raise
        return None
    for edit in edits:
        for touched in modified_rows(index, edit):
            if is_suppressed(noqa.get(touched), rule.code, rule.name):
                return None
    applicability = spec.applicability or rule.fix_applicability or Applicability.SAFE
    applicability = settings.fix_applicability(rule.code, applicability)
    return Fix(applicability=applicability, message=spec.title, edits=edits)


def syntax_error_diagnostic(path: str, error: cst.ParserSyntaxError, settings: Settings) -> Diagnostic:
    """The DLX900 diagnostic for a parse failure, at the parser's position."""
    rule = rules_by_code()[SYNTAX_ERROR]
    message = str(error.message).strip().splitlines()[0] if error.message else "invalid syntax"
    row = max(1, error.raw_line)
    column = max(1, error.raw_column + 1)
    return Diagnostic(
        code=rule.code,
        name=rule.name,
        message=f"SyntaxError: {message}",
        severity=settings.severity_of(rule.code, rule.severity),
        filename=path,
        row=row,
        column=column,
        end_row=row,
        end_column=column,
        noqa_row=None,
        url=rule_url(rule.code, rule.name),
    )


def file_diagnostic(code: str, path: str, message: str, settings: Settings) -> Diagnostic:
    """A diagnostic about a whole file (row 1, column 1), e.g. DLX902 or DLX999."""
    rule = rules_by_code().get(code)
    name = rule.name if rule else "internal-error"
    severity = rule.severity if rule else Severity.ERROR
    return Diagnostic(
        code=code,
        name=name,
        message=message,
        severity=settings.severity_of(code, severity) if rule else severity,
        filename=path,
        row=1,
        column=1,
        end_row=1,
        end_column=1,
        noqa_row=None,
        url=rule_url(code, name),
    )


def lint_bytes(path: str, data: bytes, settings: Settings | None = None, *, raise_errors: bool = False) -> list[Diagnostic]:
    """Lint raw file contents: decode (BOM, PEP 263), then `lint_python_source`; a path
    ending in ``.ipynb`` is read as a notebook (`dlx_lint.notebook.lint_notebook`).

    A file that cannot be decoded yields one ``DLX902 io-error`` diagnostic saying why.
    """
    settings = settings or _DEFAULT_SETTINGS
    if path.endswith(NOTEBOOK_SUFFIX):
        from .notebook import lint_notebook

        return lint_notebook(path, data, settings)
    try:
        decoded = decode_source(data)
    except DecodeError as error:
        if IO_ERROR not in settings.enabled_codes(path):
            return []
        return [file_diagnostic(IO_ERROR, path, str(error), settings)]
    return lint_python_source(path, decoded.text, settings, raise_errors=raise_errors)


def io_error_diagnostic(path: str, error: OSError, settings: Settings | None = None) -> Diagnostic:
    """The DLX902 diagnostic for a file that cannot be read (permissions, vanished...)."""
    reason = error.strerror or type(error).__name__
    return file_diagnostic(IO_ERROR, path, f"cannot read file: {reason}", settings or _DEFAULT_SETTINGS)


def display_path(path: str) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
