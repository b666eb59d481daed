"""Atomic file writes: a reader never sees a half-written file, and an interrupted run leaves none behind.

Files are created with the mode ``open()`` would give them: ``0o666`` minus the process umask for a new
file, the existing mode when a file is replaced (``tempfile.mkstemp`` alone would make every output 0600).
A failure to write (disk full, quota, read-only file system, no permission) raises
:class:`~ltr.errors.WriteError` naming the file, after removing the temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from ltr.errors import WriteError

#: errno values that mean "the write itself failed" when they come out of the caller's block (other
#: OSErrors raised there, e.g. reading some input, are the caller's own and pass through unchanged).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def current_umask() -> int:
    """The process umask, without changing it (Linux reports it in /proc; elsewhere set-and-restore)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)                   # not thread-safe, hence only as the fallback
    os.umask(mask)
    return mask


def _target_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)       # replacing a file keeps its mode, as open("w") does
    except FileNotFoundError:
        return 0o666 & ~current_umask()
    except OSError:
        return 0o666 & ~current_umask()


def _write_error(path: Path, err: OSError) -> WriteError:
    name = errno.errorcode.get(err.errno, "") if err.errno else ""
    why = f"{err.strerror or err}" + (f" ({name})" if name else "")
    hint = {errno.ENOSPC: "free some disk space or write elsewhere", errno.EDQUOT: "your disk quota is full",
            errno.EFBIG: "the file exceeds the size limit of this file system or process",
            errno.EROFS: "the file system is read-only; choose another folder",
            errno.EACCES: "you have no permission to write there; choose another folder",
            errno.EPERM: "you have no permission to write there; choose another folder"}.get(err.errno,
                                                                                         "check the folder")
    return WriteError(err.errno, f"cannot write '{path}': {why}; nothing was written (an earlier version of "
                                 f"the file, if any, is unchanged): {hint}", str(path))


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", encoding: str | None = "utf-8"):
    """Open a temporary file next to ``path``; on success flush, fsync and rename it over ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was. The file gets the mode
    ``open(path, "w")`` would give it (see the module docstring).

    Raises
    ------
    WriteError
        The file could not be written (disk full, quota, read-only, no permission), naming ``path``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_write(p) as f:
    ...     _ = f.write("hello")
    >>> p.read_text()
    'hello'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _write_error(path, err) from None
    ours = True                               # an OSError now comes from our own steps
    try:
        os.fchmod(fd, _target_mode(path))
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            ours = False
            yield handle
            ours = True
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, WriteError) or not (ours or err.errno in _WRITE_ERRNOS):
            raise
        raise _write_error(path, err) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path, obj, *, indent: int = 2) -> None:
    """Write ``obj`` as JSON atomically (keys sorted, so equal objects give equal bytes)."""
    with atomic_write(path) as handle:
        json.dump(obj, handle, indent=indent, sort_keys=True, default=str)
        handle.write("\n")


def sha256_file(path) -> str:
    """SHA-256 hex digest of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
