"""The markup of ``report.html``: inline-SVG charts (no matplotlib), sortable tables, and the page shell.

``histogram`` and ``bar_chart`` return an ``<svg>`` element as text, every label escaped, sized by ``viewBox``
so that it scales with the page and prints sharply; colours are presentation attributes, not ``style=``.
``page`` wraps the body in a document whose Content-Security-Policy admits only its own inline style and
table sorter (by hash) and no fetch of any kind.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'
AXIS, GRID, TEXT, MUTED = "#444", "#e3e6ea", "#222", "#666"
RATE_COLOURS = {"good": "#2e7d5b", "fair": "#c98a1b", "poor": "#c0392b"}


def esc(text: object) -> str:
    """``text`` escaped for HTML and SVG text and attributes (quotes included)."""
    return escape(str(text), quote=True)


def rate_class(rate: float) -> str:
    """"good" (green) from 80 %, "fair" (amber) from 50 %, "poor" (red) below: a bar's colour, a cell's class."""
    return "good" if rate >= 0.8 else "fair" if rate >= 0.5 else "poor"


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(top: int, most: int = 6) -> list[int]:
    """Integer ticks from 0 to at least ``top`` with a round step (1, 2, 5, 10, 20, ...), at most ``most`` steps."""
    top, scale = max(int(top), 1), 1
    while True:
        for base in (1, 2, 5):
            step = base * scale
            if -(-top // step) <= most:
                return list(range(0, -(-top // step) * step + 1, step))
        scale *= 10


def histogram(counts: Sequence[int], edges: Sequence[float], *, title: str, x_label: str,
              y_label: str = "submissions", width: int = 640, height: int = 300) -> str:
    """Vertical bars, one per bin (``edges`` has one more entry than ``counts``), a count above each.

    Every bar is ``<rect class="bar" data-bin="LO-HI" data-count="N">`` (bars of 0 are drawn flat), so the
    chart can be checked by parsing it.
    """
    if len(edges) != len(counts) + 1:
        raise ValueError("edges must have one more entry than counts")
    left, right, top, bottom = 52, 12, 30, 54
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max(counts, default=0))
    y_max = ticks[-1]
    slot = plot_w / max(len(counts), 1)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / y_max

    parts = [f'<svg class="chart histogram" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{esc(title)}" xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">',
             f"<title>{esc(title)}</title>"]
    for tick in ticks:
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{MUTED}">{tick}</text>')
    for i, count in enumerate(counts):
        x0 = left + i * slot + 3
        bar_h = plot_h * count / y_max
        parts.append(f'<rect class="bar" data-bin="{_fmt(edges[i])}-{_fmt(edges[i + 1])}" data-count="{count}" '
                     f'x="{x0:.1f}" y="{top + plot_h - bar_h:.1f}" width="{slot - 6:.1f}" height="{bar_h:.1f}" '
                     f'fill="#3b6ea8"><title>{_fmt(edges[i])}–{_fmt(edges[i + 1])}: {count}</title></rect>')
        if count:
            parts.append(f'<text x="{x0 + (slot - 6) / 2:.1f}" y="{top + plot_h - bar_h - 4:.1f}" '
                         f'text-anchor="middle" fill="{TEXT}">{count}</text>')
    for i, edge in enumerate(edges):
        x = left + i * slot
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="{AXIS}"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="middle" fill="{MUTED}">'
                     f"{_fmt(edge)}</text>")
    parts += [f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{AXIS}"/>',
              f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{AXIS}"/>',
              f'<text class="x-label" x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" '
              f'fill="{TEXT}">{esc(x_label)}</text>',
              f'<text class="y-label" transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" '
              f'text-anchor="middle" fill="{TEXT}">{esc(y_label)}</text>',
              "</svg>"]
    return "\n".join(parts)


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: ``value`` in 0..1 (drawn as a share), ``text`` printed after the bar."""

    label: str
    value: float
    text: str


def bar_chart(bars: Sequence[Bar], *, title: str, x_label: str, width: int = 640, row: int = 30,
              label_width: int = 190) -> str:
    """Horizontal bars of shares (0..1) with a label on the left and ``text`` on the right; a 0–100 % axis."""
    left, right, top, bottom = label_width, 110, 10, 44
    plot_w = width - left - right
    height = top + row * len(bars) + bottom
    axis_y = top + row * len(bars)
    parts = [f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">', f"<title>{esc(title)}</title>"]
    for pct in range(0, 101, 25):
        x = left + plot_w * pct / 100
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{axis_y}" stroke="{GRID}"/>')
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" fill="{MUTED}">{pct}%</text>')
    for i, bar in enumerate(bars):
        share = min(max(bar.value, 0.0), 1.0)
        y0 = top + i * row
        parts.append(f'<text x="{left - 8}" y="{y0 + row / 2 + 4:.1f}" text-anchor="end" fill="{TEXT}">'
                     f"{esc(bar.label)}</text>")
        parts.append(f'<rect class="bar" data-label="{esc(bar.label)}" data-value="{share:.4f}" x="{left}" '
                     f'y="{y0 + 5}" width="{max(plot_w * share, 1.5):.1f}" height="{row - 10}" '
                     f'fill="{RATE_COLOURS[rate_class(share)]}"><title>{esc(bar.label)}: {esc(bar.text)}</title>'
                     "</rect>")
        parts.append(f'<text x="{left + plot_w * share + 6:.1f}" y="{y0 + row / 2 + 4:.1f}" fill="{TEXT}">'
                     f"{esc(bar.text)}</text>")
    parts += [f'<line x1="{left}" x2="{left}" y1="{top}" y2="{axis_y}" stroke="{AXIS}"/>',
              f'<text class="x-label" x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
              f'fill="{TEXT}">{esc(x_label)}</text>', "</svg>"]
    return "\n".join(parts)


# --- HTML -------------------------------------------------------------------------------------------------------------

CSS = """
:root{--ink:#1f2328;--muted:#5b636d;--line:#d8dee4;--bg:#f6f8fa;--accent:#3b6ea8}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);margin:0 auto;max-width:1180px;
 padding:20px 28px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
h1{font-size:24px;margin:0 0 2px}h3{font-size:14px;margin:10px 0 4px;color:var(--muted)}
h2{font-size:18px;margin:26px 0 8px;padding-bottom:3px;border-bottom:2px solid var(--line)}
.meta,.note,.empty{color:var(--muted)}.note{margin:0 0 8px;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:6px 14px;min-width:120px}
.card .label{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.card .value{font-size:20px;font-weight:600}
nav{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid var(--line);z-index:1}
nav a{margin-right:14px;color:var(--accent);text-decoration:none}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:0 32px}.pair>*{min-width:0}
.muted{color:var(--muted)}
svg.chart{width:100%;height:auto;max-width:640px;display:block}
table{border-collapse:collapse;width:100%;font-size:13px;margin:4px 0 8px}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--bg);cursor:pointer;user-select:none;white-space:nowrap}
th[data-dir=asc]::after{content:" \\25B2"}th[data-dir=desc]::after{content:" \\25BC"}
tbody tr:nth-child(even){background:#fbfcfd}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.mono,.output{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.output{color:#7a3b32;overflow-wrap:anywhere}td.output{max-width:420px}td.statuses{font-size:12px;white-space:nowrap}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.rate-good .dot{background:#2e7d5b}.rate-fair .dot{background:#c98a1b}.rate-poor .dot{background:#c0392b}
@media print{body{padding:0;font-size:11px;max-width:none}nav{display:none}h2{break-after:avoid}
 tr{break-inside:avoid}thead{display:table-header-group}th::after{content:none!important}.pair{display:block}}
"""

SCRIPT = """document.querySelectorAll("table.sortable th").forEach(th => th.addEventListener("click", () => {
  const body = th.closest("table").tBodies[0], i = th.cellIndex;
  const dir = th.dataset.dir === "asc" ? "desc" : "asc";
  th.closest("tr").querySelectorAll("th").forEach(h => delete h.dataset.dir);
  th.dataset.dir = dir;
  const key = r => r.cells[i].dataset.sort ?? r.cells[i].textContent.trim();
  const rows = [...body.rows], numeric = rows.every(r => key(r) === "" || !isNaN(parseFloat(key(r))));
  rows.sort((a, b) => (numeric ? (parseFloat(key(a)) || 0) - (parseFloat(key(b)) || 0)
                               : key(a).localeCompare(key(b))) * (dir === "asc" ? 1 : -1));
  body.append(...rows);
}));
document.documentElement.dataset.sorting = "on";"""


class Html(str):
    """Markup that is already safe (built here from escaped parts): table cells pass it through as is."""


def cell(value: object, sort: object | None = None, cls: str = "") -> Html:
    """A ``<td>``: ``value`` escaped unless it is ``Html``; ``sort`` the key the table sorter uses."""
    body = value if isinstance(value, Html) else esc(value)
    attrs = (f' data-sort="{esc(sort)}"' if sort is not None else "") + (f' class="{cls}"' if cls else "")
    return Html(f"<td{attrs}>{body}</td>")


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, cls: str = "", empty: str = "none") -> str:
    """A sortable table (click a heading): each row's entries are ``cell()``s or plain values (escaped)."""
    body = ["<tr>" + "".join(c if isinstance(c, Html) else cell(c) for c in row) + "</tr>" for row in rows]
    if not body:
        return f'<p class="empty">{esc(empty)}</p>'
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in columns)
    return (f'<table class="sortable {cls}"><thead><tr>{head}</tr></thead>\n<tbody>\n' + "\n".join(body)
            + "\n</tbody></table>")


def pct(share: float) -> str:
    """0.4567 -> "46%"."""
    return f"{100 * share:.0f}%"


def section(ident: str, title: str, *body: str, note: str = "") -> str:
    """``<section id=ident>`` with a heading, an optional ``note`` (markup) and ``body`` (markup)."""
    lead = f'<p class="note">{note}</p>' if note else ""
    return f'<section id="{ident}"><h2>{esc(title)}</h2>{lead}\n' + "\n".join(body) + "\n</section>"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


#: only the page's own style and script may run; nothing may be fetched (even through a missed escape)
CSP = (f"default-src 'none'; style-src {_sha256(CSS)}; script-src {_sha256(SCRIPT)}; img-src data:; "
       "base-uri 'none'; form-action 'none'")


def page(title: str, parts: Sequence[str]) -> str:
    """A complete HTML document around ``parts`` (markup), with the style, the table sorter and the CSP."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style></head>\n<body>\n" + "\n".join(parts)
            + f"\n<script>{SCRIPT}</script>\n</body></html>\n")
