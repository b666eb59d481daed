"""The output folder of an experiment: what ltr writes there, a lock for one writer, and safe removal.

``ltr run --out DIR`` owns only what it wrote. A folder is recognised as ltr's by its ``manifest.json``
(written first, with the experiment's fingerprint and ltr's version); ``--overwrite`` then removes the
entries of :data:`OUTPUT_FILES` and :data:`OUTPUT_FOLDERS` and nothing else, and refuses a folder that ltr
did not write. Nothing is ever written through a symbolic link: ltr never creates one, so a link inside the
folder is someone else's and the run refuses to start (it could point anywhere, a thesis included).

One writer at a time: :meth:`OutputFolder.lock` takes an exclusive, non-blocking ``flock`` on
``DIR/.ltr.lock`` for the whole run (or report), so a second ``ltr run`` or ``ltr report`` into the same
folder is refused with the first one's process id instead of interleaving cells.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
from pathlib import Path

from ltr.errors import ConfigError, LTRError

#: Files ltr writes at the top of an output folder.
OUTPUT_FILES = ("manifest.json", "experiment.toml", "metrics.csv", "summary.csv", "report.md", "report.html",
                "report.tex", "protocol.csv", "run_level.csv", "tukey.csv")
#: Folders ltr writes (and owns entirely) inside an output folder.
OUTPUT_FOLDERS = ("cells", "runs", "qrels", "tuning", "tables", "cache", "figures")
LOCK_NAME = ".ltr.lock"

try:  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def is_ltr_manifest(data) -> bool:
    """True for the manifest of an ltr experiment folder (the keys every version has written)."""
    return isinstance(data, dict) and isinstance(data.get("experiment"), dict) and "fingerprint" in data


class OutputFolder:
    """An experiment's output folder (see the module docstring)."""

    def __init__(self, path):
        self.path = Path(path)

    # -- what is there ----------------------------------------------------------------------------------
    def manifest(self) -> dict | None:
        """The folder's ltr manifest, or None when there is none (or it is not ltr's)."""
        path = self.path / "manifest.json"
        if not path.is_file() or path.is_symlink():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return data if is_ltr_manifest(data) else None

    def foreign_entries(self) -> list[str]:
        """Top-level entries ltr did not write (its lock file aside)."""
        if not self.path.is_dir():
            return []
        ours = set(OUTPUT_FILES) | set(OUTPUT_FOLDERS) | {LOCK_NAME}
        return sorted(p.name for p in self.path.iterdir() if p.name not in ours)

    def symlinks(self) -> list[Path]:
        """Symbolic links among ltr's own entries (never created by ltr; never written through)."""
        found = []
        for name in (*OUTPUT_FILES, *OUTPUT_FOLDERS):
            top = self.path / name
            if top.is_symlink():
                found.append(top)
            elif top.is_dir():
                for root, dirs, files in os.walk(top):   # does not follow links
                    found += [Path(root) / n for n in (*dirs, *files) if (Path(root) / n).is_symlink()]
        return found

    def check_no_symlinks(self) -> None:
        links = self.symlinks()
        if links:
            shown = ", ".join(f"{p.relative_to(self.path)} -> {os.readlink(p)}" for p in links[:3])
            raise ConfigError(f"{self.path} holds symbolic links where ltr writes its results ({shown}); ltr "
                              f"never creates links and does not write through them (they may point outside "
                              f"the folder). Remove them or choose another --out")

    # -- removal -----------------------------------------------------------------------------------------
    def clear(self) -> list[str]:
        """Remove what ltr wrote (the entries of OUTPUT_FILES and OUTPUT_FOLDERS); return the foreign entries,
        which are left alone. Refuses a folder that holds no ltr manifest unless it holds nothing foreign."""
        if not self.path.is_dir():
            return []
        foreign = self.foreign_entries()
        if self.manifest() is None and (foreign or any((self.path / n).exists() for n in OUTPUT_FOLDERS)):
            shown = ", ".join(foreign[:5]) or ", ".join(n for n in OUTPUT_FOLDERS if (self.path / n).exists())
            raise ConfigError(f"{self.path} was not written by `ltr run` (no ltr manifest.json; it holds "
                              f"{shown}); --overwrite only replaces folders that ltr wrote. Choose another "
                              f"--out, or empty the folder yourself")
        self.check_no_symlinks()
        for name in OUTPUT_FOLDERS:
            if (self.path / name).is_dir():
                shutil.rmtree(self.path / name)
        for name in OUTPUT_FILES:
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()
        return foreign

    def remove_stale_temporaries(self) -> int:
        """Delete the ``.<name>.<random>.tmp`` files a killed atomic write left in ltr's entries."""
        removed = 0
        for name in OUTPUT_FOLDERS:
            top = self.path / name
            if top.is_dir():
                for stale in top.rglob(".*.tmp"):
                    stale.unlink()
                    removed += 1
        for stale in self.path.glob(".*.tmp"):
            if any(stale.name.startswith(f".{n}.") for n in OUTPUT_FILES):
                stale.unlink()
                removed += 1
        return removed

    # -- one writer ---------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, *, what: str = "ltr run"):
        """Hold the folder's exclusive lock; a second writer gets a ConfigError naming the first.

        A folder this call created is removed again when the block ends with an :class:`~ltr.errors.LTRError`
        before any cell was written (a run refused for its input leaves nothing behind) or holding nothing but the lock; an interrupted or
        crashed run keeps it, so that it can resume."""
        created = not self.path.exists()
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"--out {self.path} exists and is not a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        lock_path = self.path / LOCK_NAME
        if lock_path.is_symlink():
            raise ConfigError(f"{lock_path} is a symbolic link; remove it (ltr never creates one)")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if not _try_lock(fd):
                holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "another process"
                raise ConfigError(f"{self.path} is being written by {holder}; wait for it to finish or choose "
                                  f"another --out (one writer per folder)")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{what} (pid {os.getpid()} on {socket.gethostname()}, since "
                          f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n".encode(), 0)
            try:
                yield self
            except LTRError:
                if created and not (self.path / "cells").exists():
                    shutil.rmtree(self.path, ignore_errors=True)
                raise
            finally:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                    _unlock(fd)
        finally:
            os.close(fd)
            if created and self.path.is_dir() and [p.name for p in self.path.iterdir()] == [LOCK_NAME]:
                lock_path.unlink()
                self.path.rmdir()
