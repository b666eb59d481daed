"""Render one table four ways: plain text, Markdown, LaTeX (booktabs) and HTML.

A table is a header row plus rows of :class:`Cell` (text with optional bold and a significance mark), so
that "best in bold" and "significantly better" are decided once by the report and drawn by each renderer
in its own syntax.
"""

from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["Cell", "MARKS", "escape_latex", "escape_markdown", "format_number", "format_pvalue",
           "render_plain", "render_markdown", "render_latex", "render_html", "WRAP_AT"]


class Cell(NamedTuple):
    """One table cell: ``text``, whether it is ``bold`` and a ``mark`` key of :data:`MARKS` ("" for none)."""

    text: str
    bold: bool = False
    mark: str = ""


MARKS = {
    # key: (plain/markdown, LaTeX, HTML class, meaning)
    "up": ("▲", r"$^{\uparrow}$", "up", "significantly better than the baseline"),
    "down": ("▼", r"$^{\downarrow}$", "down", "significantly worse than the baseline"),
    "diff": ("†", r"$^{\dagger}$", "diff", "significantly different from the baseline (zero mean difference)"),
}
"""Significance marks per output format; the legend is generated from the meanings."""

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX_SPECIAL))


def escape_latex(text: str) -> str:
    r"""Escape LaTeX's special characters (``_`` becomes ``\_``, ``&`` becomes ``\&``, ...).

    >>> escape_latex("rank_xendcg & 50%")
    'rank\\_xendcg \\& 50\\%'
    """
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group(0)], str(text))


def escape_markdown(text: str) -> str:
    """Escape characters that would break a Markdown table cell or turn into emphasis (``|``, ``*``, ``_``)."""
    return re.sub(r"([|*_`\\])", r"\\\1", str(text))


def format_number(value: float, digits: int = 4) -> str:
    """Fixed-point with ``digits`` decimals; NaN prints as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{digits}f}"


def format_pvalue(p: float) -> str:
    """Three decimals, or scientific notation below 0.001 (never a misleading 0.000)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    if p == 0:
        return "0"
    if p < 1e-3:
        return f"{p:.1e}"
    return f"{p:.3f}"


def _as_cells(row: Sequence) -> list[Cell]:
    return [c if isinstance(c, Cell) else Cell(str(c)) for c in row]


def _check(header: Sequence[str], rows: Sequence[Sequence], align: str | None) -> str:
    align = align or ("l" + "r" * (len(header) - 1))
    if len(align) != len(header) or set(align) - set("lrc"):
        raise ValueError(f"align must have one of 'l', 'r', 'c' per column ({len(header)}), got {align!r}; "
                         f"this is a bug in ltr; please report it.")
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a table row has {len(row)} cells but the header has {len(header)}; "
                             f"this is a bug in ltr; please report it.")
    return align


def render_plain(header: Sequence[str], rows: Sequence[Sequence], *, align: str | None = None) -> str:
    """Fixed-width text table; bold is shown as a trailing ``*``."""
    align = _check(header, rows, align)
    body = []
    for row in rows:
        body.append([c.text + ("*" if c.bold else "") + (MARKS[c.mark][0] if c.mark else "")
                     for c in _as_cells(row)])
    widths = [max(len(str(h)), *(len(r[i]) for r in body)) if body else len(str(h))
              for i, h in enumerate(header)]

    def line(cells):
        out = []
        for text, width, a in zip(cells, widths, align):
            out.append(text.ljust(width) if a == "l" else text.rjust(width) if a == "r" else text.center(width))
        return "  ".join(out).rstrip()

    return "\n".join([line([str(h) for h in header]), "  ".join("-" * w for w in widths)]
                     + [line(r) for r in body])


def render_markdown(header: Sequence[str], rows: Sequence[Sequence], *, align: str | None = None) -> str:
    """GitHub-flavoured Markdown table; bold as ``**x**``, marks as ▲/▼/†."""
    align = _check(header, rows, align)
    rule = {"l": ":---", "r": "---:", "c": ":---:"}

    def cell(c: Cell) -> str:
        text = escape_markdown(c.text)
        if c.bold:
            text = f"**{text}**"
        return text + (" " + MARKS[c.mark][0] if c.mark else "")

    lines = ["| " + " | ".join(escape_markdown(h) for h in header) + " |",
             "| " + " | ".join(rule[a] for a in align) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in _as_cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def render_latex(header: Sequence[str], rows: Sequence[Sequence], *, align: str | None = None,
                 caption: str | None = None, label: str | None = None, midrule_after: int | None = None,
                 escape_header: bool = True) -> str:
    r"""A booktabs ``table`` with a ``tabular`` (needs ``\usepackage{booktabs}``); ``caption`` is raw LaTeX.

    ``midrule_after`` draws a ``\midrule`` after that many body rows (e.g. under the baseline);
    ``escape_header=False`` takes the header cells as raw LaTeX (e.g. ``$\Delta$``).
    """
    align = _check(header, rows, align)

    def cell(c: Cell) -> str:
        text = escape_latex(c.text)
        if c.bold:
            text = rf"\textbf{{{text}}}"
        return text + (MARKS[c.mark][1] if c.mark else "")

    lines = [r"\begin{table}[t]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{caption}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{{align}}}", r"\toprule",
              " & ".join(escape_latex(h) if escape_header else str(h) for h in header) + r" \\", r"\midrule"]
    for i, r in enumerate(rows):
        lines.append(" & ".join(cell(c) for c in _as_cells(r)) + r" \\")
        if midrule_after is not None and i + 1 == midrule_after and i + 1 < len(rows):
            lines.append(r"\midrule")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines)


WRAP_AT = 40
"""A text column with a cell longer than this many characters wraps in HTML (class ``wrap``, see
:data:`ltr.report.html.CSS`); every other cell stays on one line, so numbers never break."""


def render_html(header: Sequence[str], rows: Sequence[Sequence], *, align: str | None = None,
                caption: str | None = None) -> str:
    """An HTML ``<table>``; bold as ``<strong>``, marks as ``<span class="mark up">▲</span>``.

    Cells stay on one line, except in columns holding text longer than :data:`WRAP_AT` characters (a tuning
    table's configurations): those get the class ``wrap`` and break at spaces (or anywhere, for one long
    word), so that the table fits the page instead of running off it.
    """
    align = _check(header, rows, align)
    css = {"l": "left", "r": "right", "c": "center"}
    cells = [_as_cells(r) for r in rows]
    wrap = [any(len(r[i].text) > WRAP_AT for r in cells) for i in range(len(header))]
    classes = [css[a] + (" wrap" if w else "") for a, w in zip(align, wrap)]

    def cell(c: Cell, cls: str) -> str:
        text = _html.escape(c.text)
        if c.bold:
            text = f"<strong>{text}</strong>"
        if c.mark:
            symbol, _, mark, meaning = MARKS[c.mark]
            text += f'<span class="mark {mark}" title="{_html.escape(meaning)}">{symbol}</span>'
        return f'<td class="{cls}">{text}</td>'

    out = ["<table>"]
    if caption:
        out.append(f"<caption>{_html.escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th class="{cls}">{_html.escape(str(h))}</th>'
                                       for h, cls in zip(header, classes)) + "</tr></thead>")
    out.append("<tbody>")
    for r in cells:
        out.append("<tr>" + "".join(cell(c, cls) for c, cls in zip(r, classes)) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)
