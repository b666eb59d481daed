"""TOML: read a file into a table with errors that name the file, and write the subset of TOML the experiment
declarations use (scalars, lists, inline tables, one level of ``[table]`` sections), so that a declaration
written here reads back equal (``tomllib``, the standard library's reader, is the oracle in the tests).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ltr.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def read_toml(path) -> dict:
    """The table of a TOML file; a missing file, bytes that are not UTF-8 or invalid TOML are a
    :class:`~ltr.errors.ConfigError` naming the file (and line, where the TOML reader gives one)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"experiment file {path} does not exist")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); save the file "
                          f"as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return repr(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_value(x)}" for k, x in v.items() if x is not None) + "}"
    raise ConfigError(f"cannot write {v!r} ({type(v).__name__}) to TOML")


def dumps_toml(data: dict, *, tables=()) -> str:
    """TOML text of ``data``: the keys named in ``tables`` (whose values are dicts) as ``[key]`` sections,
    everything else as ``key = value`` lines; ``None`` values are left out (TOML has no null)."""
    lines, sections = [], []
    for k, v in data.items():
        if v is None:
            continue
        if k in tables and isinstance(v, dict):
            sections.append((k, v))
        else:
            lines.append(f"{k} = {_value(v)}")
    for name, table in sections:
        lines.append(f"\n[{name}]")
        lines.extend(f"{k} = {_value(v)}" for k, v in table.items() if v is not None)
    return "\n".join(lines) + "\n"
