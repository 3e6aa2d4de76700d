"""Re-linting an edited file fast: reparse only the statements an edit touched.

The language server lints a document after every edit. Parsing is most of the cost (libcst
takes about 0.4 s for a 5,000-line module), and an edit usually touches one statement. An
`IncrementalLinter` keeps the previous text, its `libcst.Module` and the text offsets of its
top-level statements and of the statements directly inside top-level classes (methods). For
a new text it finds the changed region (common prefix and suffix), reparses only the
statements that region overlaps, and splices the new statement nodes into the previous tree
(`with_changes`; unchanged nodes are shared). Statements in a class body are reparsed inside
a ``class _:`` wrapper with the class's indentation, so their text (multi-line strings
included) is parsed verbatim.

Every splice is checked locally: the new statements' generated code must have exactly the
length of the reparsed text, the wrapper must hold nothing else, and the indentation and
newline conventions must match the module's. Anything unusual (the edit touches the module
header or footer, a file without a final newline, a statement that does not parse on its
own, a mismatch) falls back to a full parse, so the result is always what
`dlx_lint.engine.lint_source` returns for the same text; the tests check ``module.code ==
text`` after many random edits.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

from .diagnostics import Diagnostic
from .engine import (
    IO_ERROR, MAX_SOURCE_CHARS, SYNTAX_ERROR, analyse, applicable_rules, file_diagnostic, syntax_error_diagnostic,
    too_large_diagnostic,
)
from .parsing import parse_module
from .settings import Settings

_WRAPPER_NAME = "_"


class _OffsetState(CodegenState):
    """Code generation that only counts characters and records the [start, end) offsets of
    the wanted nodes (by identity)."""

    def __init__(self, module: cst.Module, wanted: set[int]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.offset = 0
        self.wanted = wanted
        self.spans: dict[int, list[int]] = {}

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.offset += len(value)

    def before_codegen(self, node) -> None:
        if id(node) in self.wanted:
            self.spans[id(node)] = [self.offset, self.offset]

    def after_codegen(self, node) -> None:
        span = self.spans.get(id(node))
        if span is not None:
            span[1] = self.offset

    def pop_trailing_newline(self) -> None:
        pass


def _class_body(node: cst.CSTNode) -> tuple[cst.BaseStatement, ...] | None:
    """The statements of a class whose body is an indented block, else None."""
    if isinstance(node, cst.ClassDef) and isinstance(node.body, cst.IndentedBlock):
        return tuple(node.body.body)
    return None


@dataclass
class Layout:
    """A parsed text and the offsets the splicing needs.

    Attributes:
        text: the source text.
        module: its parse.
        starts: start offset of each top-level statement (leading comment lines included),
            then the end offset of the last one.
        inner: top-level statement index (of a class) -> start offsets of its body statements,
            then the end offset of the last one.
    """

    text: str
    module: cst.Module
    starts: list[int]
    inner: dict[int, list[int]] = field(default_factory=dict)


def _statement_offsets(module: cst.Module, statements, base: int = 0) -> tuple[list[int], dict[int, list[int]], int] | None:
    """Offsets of `statements` (and of class-body statements inside them) when generated in
    sequence under `module`'s conventions, plus the generated length."""
    wanted = {id(s) for s in statements}
    for statement in statements:
        body = _class_body(statement)
        if body:
            wanted.update(id(s) for s in body)
    state = _OffsetState(module, wanted)
    for statement in statements:
        statement._codegen(state)
    starts = [state.spans[id(s)][0] + base for s in statements]
    inner: dict[int, list[int]] = {}
    for index, statement in enumerate(statements):
        body = _class_body(statement)
        if body:
            inner[index] = [state.spans[id(s)][0] + base for s in body] + [state.spans[id(body[-1])][1] + base]
    return starts, inner, state.offset


def layout_of(text: str, module: cst.Module) -> Layout | None:
    """The layout of a full parse, or None when the text cannot be spliced into later (no
    final newline, or no statements)."""
    if not module.body or not module.has_trailing_newline or not text.endswith(("\n", "\r")):
        return None
    header = "".join(module.code_for_node(line) for line in module.header) if module.header else ""
    result = _statement_offsets(module, module.body, base=len(header))
    if result is None:
        return None
    starts, inner, length = result
    footer = "".join(module.code_for_node(line) for line in module.footer) if module.footer else ""
    if len(header) + length + len(footer) != len(text):
        return None
    return Layout(text, module, starts + [len(header) + length], inner)


def _common_affixes(old: str, new: str) -> tuple[int, int]:
    """(common prefix length, common suffix length), not overlapping in either text."""
    limit = min(len(old), len(new))
    low, high = 0, limit
    while low < high:  # binary search on slice equality: C-speed comparisons
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    prefix = low
    low, high = 0, limit - prefix
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle:] == new[len(new) - middle:]:
            low = middle
        else:
            high = middle - 1
    return prefix, low


def _parse_top_level(text: str, module: cst.Module) -> cst.Module | None:
    try:
        part = parse_module(text)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    if (part.default_indent, part.default_newline) != (module.default_indent, module.default_newline):
        return None
    return part


def _parse_in_class(text: str, module: cst.Module, class_node: cst.ClassDef) -> tuple[cst.BaseStatement, ...] | None:
    """Statements of a class body, parsed verbatim inside a ``class _:`` wrapper; None when
    the wrapper holds anything but them or the indentation differs."""
    prefix = f"class {_WRAPPER_NAME}:{module.default_newline}"
    try:
        wrapper = parse_module(prefix + text)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    if (wrapper.default_indent, wrapper.default_newline) != (module.default_indent, module.default_newline):
        return None
    if wrapper.header or wrapper.footer or len(wrapper.body) != 1 or not wrapper.has_trailing_newline:
        return None
    [wrapped] = wrapper.body
    if not isinstance(wrapped, cst.ClassDef) or wrapped.leading_lines or not isinstance(wrapped.body, cst.IndentedBlock):
        return None
    block = wrapped.body
    if block.footer or not block.body:
        return None
    real_indent = class_node.body.indent or module.default_indent
    if (block.indent or wrapper.default_indent) != real_indent:
        return None
    return tuple(block.body)


def _shift(values: list[int], delta: int) -> list[int]:
    return [value + delta for value in values]


def splice(layout: Layout, new_text: str) -> Layout | None:
    """The layout of `new_text` built from `layout` by reparsing only the touched statements,
    or None when that is not possible (the caller then parses the whole text)."""
    old_text = layout.text
    if not new_text.endswith(("\n", "\r")):
        return None
    prefix, suffix = _common_affixes(old_text, new_text)
    old_end = len(old_text) - suffix
    delta = len(new_text) - len(old_text)
    starts = layout.starts
    count = len(starts) - 1
    if prefix < starts[0] or old_end > starts[-1]:
        return None  # the module header or footer changed
    first = min(bisect.bisect_right(starts, prefix) - 1, count - 1)
    last = max(first, bisect.bisect_left(starts, old_end) - 1)
    module = layout.module
    body = tuple(module.body)

    class_starts = layout.inner.get(first)
    if first == last and class_starts is not None and class_starts[0] <= prefix and old_end <= class_starts[-1]:
        result = _splice_in_class(layout, new_text, prefix, old_end, delta, first, class_starts)
        if result is not None:
            return result

    chunk = new_text[starts[first]: starts[last + 1] + delta]
    part = _parse_top_level(chunk, module)
    if part is None or not part.has_trailing_newline:
        return None
    new_statements = list(part.body)
    loose_lines = tuple(part.header) + tuple(part.footer) if not new_statements else tuple(part.footer)
    if new_statements and part.header:
        new_statements[0] = new_statements[0].with_changes(leading_lines=(*part.header, *new_statements[0].leading_lines))
    rest = list(body[last + 1:])
    footer = tuple(module.footer)
    if loose_lines:  # comment or blank lines after the chunk's statements: they lead what follows
        if rest:
            rest[0] = rest[0].with_changes(leading_lines=(*loose_lines, *rest[0].leading_lines))
        else:
            footer = (*loose_lines, *footer)
    changed = new_statements + rest[:1] if loose_lines and rest else new_statements
    base = starts[first]
    offsets = _statement_offsets(module, changed, base=base)
    if offsets is None:
        return None
    changed_starts, changed_inner, length = offsets
    expected = len(chunk) + (starts[last + 2] - starts[last + 1] if loose_lines and rest else 0)
    if length != expected:
        return None
    new_body = (*body[:first], *changed, *rest[1:]) if loose_lines and rest else (*body[:first], *changed, *rest)
    new_module = module.with_changes(body=new_body, footer=footer)
    skip = len(changed)
    resumed = last + 1 + (1 if loose_lines and rest else 0)
    new_starts = starts[:first] + changed_starts + _shift(starts[resumed:], delta)
    inner: dict[int, list[int]] = {}
    for index, values in layout.inner.items():
        if index < first:
            inner[index] = values
        elif index >= resumed:
            inner[index - resumed + first + skip] = _shift(values, delta)
    for index, values in changed_inner.items():
        inner[first + index] = values
    return Layout(new_text, new_module, new_starts, inner)


def _splice_in_class(layout: Layout, new_text: str, prefix: int, old_end: int, delta: int, index: int, class_starts: list[int]) -> Layout | None:
    module = layout.module
    class_node = module.body[index]
    statements = tuple(class_node.body.body)
    count = len(class_starts) - 1
    first = min(bisect.bisect_right(class_starts, prefix) - 1, count - 1)
    last = max(first, bisect.bisect_left(class_starts, old_end) - 1)
    chunk = new_text[class_starts[first]: class_starts[last + 1] + delta]
    new_statements = _parse_in_class(chunk, module, class_node)
    if new_statements is None:
        return None
    # Offsets inside the class body: generate the new statements with the body's indentation.
    state = _OffsetState(module, {id(s) for s in new_statements})
    state.increase_indent(class_node.body.indent or module.default_indent)
    for statement in new_statements:
        statement._codegen(state)
    if state.offset != len(chunk):
        return None
    base = class_starts[first]
    new_class_starts = (
        class_starts[:first]
        + [state.spans[id(s)][0] + base for s in new_statements]
        + _shift(class_starts[last + 1:], delta)
    )
    new_class = class_node.with_changes(body=class_node.body.with_changes(body=(*statements[:first], *new_statements, *statements[last + 1:])))
    body = tuple(module.body)
    new_module = module.with_changes(body=(*body[:index], new_class, *body[index + 1:]))
    starts = layout.starts
    new_starts = starts[: index + 1] + _shift(starts[index + 1:], delta)
    inner = {i: (values if i < index else _shift(values, delta)) for i, values in layout.inner.items() if i != index}
    inner[index] = new_class_starts
    return Layout(new_text, new_module, new_starts, inner)


class IncrementalLinter:
    """Lints successive versions of one document, reusing the previous parse.

    Not thread-safe: one instance per document, used by one thread at a time.

    Attributes:
        layout: the last successfully parsed text with its offsets (None before the first
            parse, after a syntax error, or for texts that cannot be spliced).
        last_mode: ``"full"``, ``"incremental"`` or ``"skipped"`` (no rule applies) for the
            last call; for tests and the benchmark.
    """

    def __init__(self) -> None:
        self.layout: Layout | None = None
        self.last_mode = ""

    def parse(self, source: str) -> cst.Module:
        """The module for `source`: spliced from the previous parse when possible.

        Raises:
            libcst.ParserSyntaxError, RecursionError: the text does not parse.
        """
        if self.layout is not None and self.layout.text == source:
            self.last_mode = "incremental"
            return self.layout.module
        if self.layout is not None:
            spliced = splice(self.layout, source)
            if spliced is not None:
                self.layout = spliced
                self.last_mode = "incremental"
                return spliced.module
        self.layout = None
        module = parse_module(source)
        self.layout = layout_of(source, module)
        self.last_mode = "full"
        return module

    def lint(self, path: str, source: str, settings: Settings | None = None) -> list[Diagnostic]:
        """The same diagnostics as `dlx_lint.engine.lint_python_source(path, source, settings)`.

        Args:
            path: the file's path or the document's URI.
            source: the full current text.
            settings: effective settings (defaults when None).
        """
        settings = settings or Settings()
        enabled = settings.enabled_codes(path)
        rules = applicable_rules(source, enabled)
        if not rules:
            self.last_mode = "skipped"
            return []
        if len(source) > MAX_SOURCE_CHARS:
            self.layout = None
            self.last_mode = "skipped"
            return [too_large_diagnostic(path, len(source), settings)] if IO_ERROR in enabled else []
        try:
            module = self.parse(source)
        except cst.ParserSyntaxError as error:
            self.layout = None
            return [syntax_error_diagnostic(path, error, settings)] if SYNTAX_ERROR in enabled else []
        except (RecursionError, MemoryError):
            self.layout = None
            if SYNTAX_ERROR not in enabled:
                return []
            return [file_diagnostic(SYNTAX_ERROR, path, "file too deeply nested to parse", settings)]
        return analyse(module, source, path, rules, settings)
