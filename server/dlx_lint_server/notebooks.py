"""LSP notebook documents: snapshot the cells, lint the code cells together, split the
results per cell URI.

The engine side (`dlx_lint.notebook`) does what the CLI does for ``.ipynb`` files: code cells
joined in order (names from earlier cells are known), IPython syntax blanked, a cell that
does not parse reported as DLX900 on its own. Diagnostics come back with ``cell`` = index
among all cells and rows relative to that cell; here that index becomes the cell's URI.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from dlx_lint.diagnostics import Diagnostic
from dlx_lint.notebook import code_cell, lint_cells
from dlx_lint.settings import Settings

PYTHON_LANGUAGES = ("python", "ipython")


@dataclass(frozen=True)
class CellSnapshot:
    """One cell at the time of linting.

    Attributes:
        uri: the cell's text document URI.
        index: 0-based index among all cells (markdown cells count).
        is_code: a Python code cell (markdown and other-language cells are not linted).
        text: the cell's text.
        version: the cell text document's version.
    """

    uri: str
    index: int
    is_code: bool
    text: str
    version: int | None


def snapshot_cells(notebook: types.NotebookDocument, workspace) -> tuple[CellSnapshot, ...]:
    """The notebook's cells with their current text.

    Args:
        notebook: pygls' copy of the notebook document.
        workspace: the pygls `Workspace` holding the cells' text documents.
    """
    cells = []
    for index, cell in enumerate(notebook.cells):
        document = workspace.text_documents.get(cell.document)
        if document is None:  # pygls stores by unquoted URI; fall back to its lookup
            document = workspace.get_text_document(cell.document)
        language = (document.language_id or "python").lower()
        is_code = cell.kind == types.NotebookCellKind.Code and language in PYTHON_LANGUAGES
        cells.append(CellSnapshot(cell.document, index, is_code, document.source, document.version))
    return tuple(cells)


def lint_notebook_cells(path: str, cells: tuple[CellSnapshot, ...], settings: Settings) -> dict[str, list[Diagnostic]]:
    """Lint the code cells together and group the diagnostics by cell URI.

    Args:
        path: the notebook's path or URI (per-file ignores, diagnostics' filename).
        cells: the snapshot from `snapshot_cells`.
        settings: engine settings.

    Returns:
        Cell URI -> diagnostics (rows relative to the cell) for every code cell, empty lists
        included so that fixed cells get cleared.
    """
    prepared = [code_cell(cell.index, cell.text) for cell in cells if cell.is_code]
    diagnostics = lint_cells(path, [cell for cell in prepared if cell is not None], settings)
    by_uri: dict[str, list[Diagnostic]] = {cell.uri: [] for cell in cells if cell.is_code}
    uri_of_index = {cell.index: cell.uri for cell in cells}
    for diagnostic in diagnostics:
        uri = uri_of_index.get(diagnostic.cell) if diagnostic.cell is not None else None
        if uri is None:  # a notebook-level diagnostic: show it on the first code cell
            uri = next(iter(by_uri), None)
        if uri is not None:
            by_uri.setdefault(uri, []).append(diagnostic)
    return by_uri
