"""One self-contained HTML file: inline CSS, images embedded as base64 PNG ``data:`` URIs.

No external stylesheet, script, font or image, so the file can be mailed, attached to a paper's
supplementary material or opened offline, and renders the same everywhere.
"""

from __future__ import annotations

import base64
import html as _html

__all__ = ["CSS", "png_img", "figure_block", "render_document"]

CSS = """
:root { --fg: #1d2430; --muted: #5b6575; --line: #d9dee7; --head: #f3f5f9; --accent: #2457a6;
        --up: #1f8a4c; --down: #b8392f; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: var(--fg); margin: 0; background: #fff; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 64px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p.meta, p.legend, figcaption { color: var(--muted); font-size: 13px; }
p.legend { margin-top: 6px; }
.warning { background: #fff7e0; border-left: 4px solid #e0a800; padding: 8px 12px; margin: 12px 0;
           font-size: 13px; }
.scroll { overflow-x: auto; max-width: 100%; }
table { max-width: 100%; border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; font-size: 14px; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th.wrap, td.wrap { white-space: normal; overflow-wrap: anywhere; min-width: 12em; max-width: 36em; }
thead th { background: var(--head); border-bottom: 2px solid #b9c1cf; font-weight: 600; }
tbody tr:hover { background: #f8fafc; }
td.left, th.left { text-align: left; } td.right, th.right { text-align: right; }
td.center, th.center { text-align: center; }
strong { color: #000; }
.mark { margin-left: 3px; font-size: 11px; vertical-align: 1px; }
.mark.up { color: var(--up); } .mark.down { color: var(--down); } .mark.diff { color: var(--accent); }
figure { margin: 18px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; font-size: 13px; }
code { background: var(--head); padding: 1px 4px; border-radius: 3px; font-size: 13px; }
"""


def png_img(png: bytes, *, alt: str) -> str:
    """An ``<img>`` whose source is the PNG itself (``data:image/png;base64,...``)."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_html.escape(alt)}" src="data:image/png;base64,{data}">'


def figure_block(png: bytes, *, title: str, caption: str | None = None) -> str:
    """A ``<figure>`` with an embedded PNG and a caption."""
    cap = _html.escape(caption if caption else title)
    return f"<figure>{png_img(png, alt=title)}<figcaption>{cap}</figcaption></figure>"


def render_document(title: str, body: str) -> str:
    """A complete HTML5 document with the inline stylesheet; ``body`` is trusted HTML."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f"{body}\n</main>\n</body>\n</html>\n")
