"""What a report may trust in an experiment folder: every file it reads is checked against the manifest.

``ltr run`` records the SHA-256 of each file it writes: a cell's files in its ``cell.json``, and the
folder-level files (``metrics.csv``, ``experiment.toml``, ``qrels/*``, ``tables/*``, ``tuning/*``) in
``manifest.json`` when the run finishes. ``ltr report`` and ``ltr compare`` read a folder only through the
functions here, so an edited ``metrics.csv``, a truncated qrels file, a damaged ``curves.csv`` or a cell
copied in from another experiment is refused with a one-line error naming the file, instead of turning into
numbers no run produced.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ltr.atomic import sha256_file
from ltr.errors import ConfigError, DataError

#: Folder-level files whose hashes the finished manifest records (globs relative to the folder).
RECORDED = ("metrics.csv", "experiment.toml", "qrels/*.qrels", "tables/*.csv", "tuning/*/*.json")


def recorded_files(out: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of the folder-level files (see :data:`RECORDED`)."""
    out = Path(out)
    files = {}
    for pattern in RECORDED:
        for path in sorted(out.glob(pattern)):
            if path.is_file() and not path.name.startswith("."):
                files[str(path.relative_to(out))] = sha256_file(path)
    return files


def read_manifest(out) -> dict:
    """The folder's manifest; a missing, damaged or foreign one is a one-line ConfigError."""
    path = Path(out) / "manifest.json"
    if not path.is_file():
        raise ConfigError(f"{out} holds no experiment (no manifest.json); run `ltr run EXPERIMENT --out {out}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is damaged ({exc}); run `ltr run EXPERIMENT --out {out}` again to rewrite "
                          f"it (finished cells are kept)") from None
    needed = ("experiment", "fingerprint", "systems", "folds", "seeds")
    if not isinstance(manifest, dict) or any(k not in manifest for k in needed):
        raise ConfigError(f"{path} is not a finished or running ltr manifest (it lacks "
                          f"{[k for k in needed if not isinstance(manifest, dict) or k not in manifest]}); run "
                          f"`ltr run EXPERIMENT --out {out}` again")
    return manifest


def check_recorded(out, manifest: dict) -> None:
    """Every folder-level file the manifest recorded still has its recorded SHA-256."""
    out = Path(out)
    for rel, digest in (manifest.get("files") or {}).items():
        path = out / rel
        if not path.is_file():
            raise DataError(f"{path} is missing; `ltr run` wrote it and recorded it in {out}/manifest.json. Run "
                            f"`ltr run EXPERIMENT --out {out}` again to recompute it")
        if sha256_file(path) != digest:
            raise DataError(f"{path} was changed after `ltr run` wrote it (its SHA-256 differs from the one in "
                            f"{out}/manifest.json), so the report would show numbers no run produced. Run `ltr "
                            f"run EXPERIMENT --out {out}` again to recompute it")


def cells(out, manifest: dict) -> list[tuple[Path, dict]]:
    """``(cell folder, cell.json)`` of every cell of the experiment, each verified: its identity is the
    manifest's and every file it lists has the recorded SHA-256."""
    out = Path(out)
    found = []
    for marker in sorted(out.glob("cells/*/*/*/cell.json")):
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{marker} is damaged ({exc}); run `ltr run EXPERIMENT --out {out}` again to "
                            f"recompute the cell") from None
        if manifest.get("identity") and info.get("identity") != manifest["identity"]:
            continue   # a cell of another identity (kept on disk, never reported)
        for rel, digest in info.get("files", {}).items():
            path = out / rel
            if not path.is_file() or sha256_file(path) != digest:
                raise DataError(f"{path} does not match its cell's record ({marker}): changed or missing after "
                                f"`ltr run` wrote it. Run `ltr run EXPERIMENT --out {out}` again to recompute "
                                f"the cell")
        found.append((marker.parent, info))
    return found


def read_csv(path, **kwargs) -> pd.DataFrame:
    """A CSV file the run wrote; one that cannot be parsed is a DataError naming it."""
    try:
        return pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path} cannot be read as the CSV file `ltr run` wrote ({str(exc).splitlines()[0]}); "
                        f"run `ltr run` again to recompute it") from None
