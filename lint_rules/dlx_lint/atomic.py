"""Replace a file's contents atomically: readers (and concurrent writers) see the old file or
the new one, never a mix or a truncated file."""

from __future__ import annotations

import os
import stat
import tempfile


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
    directory = os.path.dirname(os.path.abspath(path))
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
