"""Names with parameters: ``lambdarank(truncation_level=20)``, ``nDCG(gain='exp')@10``, ``synthetic-web(seed=0)``.

One parser and one printer for every registry (metrics, objectives, extractors, data sets), so that a
printed name always parses back to the same object (ir_measures' ``parse_measure`` does the same with ``ast``).
Also :func:`select`, which builds "Unknown X. Choose from [...]" from the table itself, never from a
hand-written list.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from ltr.errors import UnknownNameError

_NAME = re.compile(r"^\s*([A-Za-z_][\w\-.:]*)\s*(\((.*)\))?\s*(@\s*([^@()]+))?\s*$", re.S)


class Spec(NamedTuple):
    """A parsed name: ``name``, keyword ``params`` and an optional ``cutoff`` (the part after ``@``)."""

    name: str
    params: dict[str, Any]
    cutoff: int | None = None


def _literal(node: ast.AST, text: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        # bare words (gain=exp) are accepted as strings, as command lines strip quotes
        if isinstance(node, ast.Name):
            return node.id
        raise UnknownNameError(f"cannot read the value {ast.get_source_segment(text, node)!r} "
                               f"in {text!r}: use a number, a quoted string, True/False or None") from None


def parse_spec(text: str, *, what: str = "name") -> Spec:
    """Parse ``name(key=value, ...)@cutoff``.

    Values are Python literals (numbers, quoted strings, True/False/None, tuples/lists).

    >>> parse_spec("nDCG(gain='exp')@10")
    Spec(name='nDCG', params={'gain': 'exp'}, cutoff=10)
    >>> parse_spec("lambdarank(truncation_level=20)")
    Spec(name='lambdarank', params={'truncation_level': 20}, cutoff=None)
    """
    if not isinstance(text, str):
        raise UnknownNameError(f"a {what} must be a string like 'name(key=value)'; got {text!r}")
    m = _NAME.match(text)
    if not m:
        raise UnknownNameError(f"cannot parse {what} {text!r}: expected 'name', 'name(key=value, ...)' "
                               f"or 'name@k'")
    name, _, args, _, cutoff_text = m.groups()
    params: dict[str, Any] = {}
    if args is not None and args.strip():
        try:
            call = ast.parse(f"f({args})", mode="eval").body
        except SyntaxError:
            raise UnknownNameError(f"cannot parse the parameters of {what} {text!r}: "
                                   f"expected key=value pairs separated by commas") from None
        if not isinstance(call, ast.Call) or call.args:
            raise UnknownNameError(f"parameters of {what} {text!r} must be given as key=value")
        for kw in call.keywords:
            if kw.arg is None:
                raise UnknownNameError(f"parameters of {what} {text!r} must be given as key=value")
            params[kw.arg] = _literal(kw.value, f"f({args})")
    cutoff = None
    if cutoff_text is not None:
        try:
            cutoff = int(cutoff_text.strip())
        except ValueError:
            raise UnknownNameError(f"the cutoff in {what} {text!r} must be a positive integer, "
                                   f"got {cutoff_text.strip()!r}") from None
        if cutoff <= 0:
            raise UnknownNameError(f"the cutoff in {what} {text!r} must be a positive integer, got {cutoff}")
    return Spec(name, params, cutoff)


def format_spec(name: str, params: Mapping[str, Any] | None = None, cutoff: int | None = None,
                defaults: Mapping[str, Any] | None = None) -> str:
    """Print a name so that :func:`parse_spec` reads it back; parameters equal to ``defaults`` are omitted.

    >>> format_spec("nDCG", {"gain": "exp", "norel": 0}, 10, defaults={"gain": "linear", "norel": 0})
    "nDCG(gain='exp')@10"
    """
    defaults = defaults or {}
    shown = [(k, v) for k, v in (params or {}).items() if k not in defaults or defaults[k] != v]
    text = name
    if shown:
        text += "(" + ", ".join(f"{k}={v!r}" for k, v in shown) + ")"
    if cutoff is not None:
        text += f"@{cutoff}"
    return text


def select(table: Mapping[str, Any], name: str, *, what: str) -> Any:
    """Look ``name`` up in ``table``; an unknown name lists the valid ones (and the closest match).

    >>> select({"a": 1, "b": 2}, "c", what="thing")
    Traceback (most recent call last):
    ...
    ltr.errors.UnknownNameError: Unknown thing 'c'. Choose from ['a', 'b'].
    """
    try:
        return table[name]
    except (KeyError, TypeError):
        choices = sorted(table)
        close = difflib.get_close_matches(str(name), choices, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(f"Unknown {what} {name!r}. Choose from {choices}.{hint}") from None


def check_params(params: Mapping[str, Any], allowed: Mapping[str, Any] | set | tuple | list, *,
                 owner: str, what: str = "parameters", error: type[Exception] = UnknownNameError) -> None:
    """Refuse parameters (or keys: ``what``) that ``owner`` does not have, naming the valid ones and the
    closest match; raises ``error``."""
    unknown = [k for k in params if k not in allowed]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, list(allowed), n=1)
            if close:
                hints.append(f"did you mean {close[0]!r} for {k!r}?")
        hint = (" " + "; ".join(hints)) if hints else ""
        raise error(f"{owner} got unknown {what} {unknown}; valid: {sorted(allowed)}.{hint}")
