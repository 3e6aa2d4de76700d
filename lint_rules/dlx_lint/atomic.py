"""Writing users' files safely.

`replace_if_unchanged` is how ``--fix`` and ``--add-noqa`` rewrite a file: it refuses a file
that is read-only, a path that resolves (through a symbolic link, of the file or of a folder
above it) to a file outside the project, and a file whose size, modification time or bytes
changed since it was read; otherwise it writes the new bytes to a temporary file in the same
directory, ``fsync``\\ s it, gives it the file's mode (and owner, where allowed) and renames it
over the file. Readers (and concurrent writers) see the old file or the new one, never a mix
or a truncated file; a failure at any step (a full disk, a vanished directory) leaves the
original untouched and no temporary file behind. `write_atomic` is the same write without the
checks, for dlx-lint's own files (the cache).
"""

from __future__ import annotations

import os
import stat
import tempfile

PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg", ".hg")
TEMPORARY_SUFFIX = ".dlx-lint-tmp"
CHANGED = "changed on disk while it was being fixed; not written"


def write_atomic(path: str, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same directory, then
    ``os.replace`` it over `path` (atomic on POSIX and Windows when on the same file system,
    which the shared directory guarantees).

    Args:
        path: the file to create or replace.
        data: the complete new contents.
        mode: permission bits for the result; by default those of the existing file (so a
            rewrite keeps an executable script executable), else ``0o666`` minus the umask.

    Raises:
        OSError: the directory is not writable, the disk is full...; `path` is then unchanged
            and no temporary file is left behind.
    """
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
    _replace(path, data, mode, None)


def project_root(path: str, configured: str | None = None) -> str:
    """The project a file belongs to, for deciding where writes may go: the configuration's
    directory (`configured`, the ``pyproject.toml`` with ``[tool.dlx-lint]``) when the file
    lies below it; else the nearest directory above the file with ``.git``,
    ``pyproject.toml``, ``setup.py``, ``setup.cfg`` or ``.hg``; else the working directory
    when the file lies below it; else the file's own directory. Paths are taken as written
    (symbolic links not resolved), so a link inside the project does not move the project."""
    absolute = os.path.abspath(path)
    directory = os.path.dirname(absolute)
    if configured and _below(directory, os.path.abspath(configured)):
        return os.path.abspath(configured)
    current = directory
    while True:
        if any(os.path.lexists(os.path.join(current, marker)) for marker in PROJECT_MARKERS):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    cwd = os.getcwd()
    return cwd if _below(directory, cwd) else directory


def write_problem(path: str, root: str | None = None) -> str | None:
    """Why `path` must not be rewritten, or None: it resolves outside `root` (default:
    `project_root`) through a symbolic link, or it is read-only (no write permission bit, or
    not writable by this user)."""
    target = os.path.realpath(path)
    root = os.path.realpath(root if root is not None else project_root(path))
    if not _below(target, root):
        return f"a symbolic link to {target}, outside the project ({root}); not written"
    try:
        status = os.stat(target)
    except OSError as error:
        return f"cannot write: {error.strerror or error}"
    if not status.st_mode & 0o222 or not os.access(target, os.W_OK):
        return "read-only file; not written"
    return None


def replace_if_unchanged(path: str, data: bytes, expected: bytes, before: os.stat_result, root: str | None = None) -> str | None:
    """Replace the file at `path` with `data` if it may be written (`write_problem`) and still
    holds `expected`.

    Args:
        path: the file (a symbolic link inside the project is followed: its target is
            rewritten and the link stays).
        data: the new contents.
        expected: the contents the new ones were computed from.
        before: the file's status when it was read.
        root: the project root (default: `project_root` of `path`).

    Returns:
        None on success, else a one-line reason the file was left alone.
    """
    problem = write_problem(path, root)
    if problem is not None:
        return problem
    target = os.path.realpath(path)
    try:
        now = os.stat(target)
        if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            return CHANGED
        with open(target, "rb") as handle:
            if handle.read() != expected:
                return CHANGED
        _replace(target, data, stat.S_IMODE(now.st_mode), now)
    except _Changed:
        return CHANGED
    except OSError as error:
        return f"cannot write: {error.strerror or error}"
    return None


class _Changed(Exception):
    pass


def _replace(path: str, data: bytes, mode: int, expected_status: os.stat_result | None) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=TEMPORARY_SUFFIX, dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        if expected_status is not None:
            try:
                os.chown(temporary, expected_status.st_uid, expected_status.st_gid)
            except (OSError, AttributeError):
                pass  # not permitted (or not POSIX): the file keeps its mode, not its owner
            last = os.stat(path)
            if (last.st_size, last.st_mtime_ns) != (expected_status.st_size, expected_status.st_mtime_ns):
                raise _Changed()
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _below(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
