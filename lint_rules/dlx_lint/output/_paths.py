"""Path spellings shared by the CI formats (one job: turn a diagnostic's filename into the
form a consumer expects)."""

from __future__ import annotations

import os


def relative_posix(path: str, base: str | None = None) -> str:
    """`path` relative to `base` (default: the working directory) with ``/`` separators, or
    the absolute path (``/`` separators) when it does not lie below `base`.

    Args:
        path: a file path as given on the command line (relative or absolute).
        base: the directory paths are made relative to.
    """
    absolute = os.path.abspath(path)
    base = os.path.abspath(base or os.getcwd())
    try:
        relative = os.path.relpath(absolute, base)
    except ValueError:  # another drive (Windows)
        relative = None
    if relative is None or relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return absolute.replace(os.sep, "/")
    return relative.replace(os.sep, "/")
