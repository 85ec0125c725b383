"""Charts for the health officers' workbench, drawn on the server as SVG.

Pure functions: series in, one ``<svg>`` string out — no ORM, no scripts, no external
references (no href, no url(), no web fonts), every caller-supplied text escaped. The picture
has a ``viewBox`` and no fixed size, so it fills its container and still reads on a 375 px
phone; ``<title>`` and ``<desc>`` name it for screen readers. A series with no data draws an
explicit 暂无数据 rather than an empty frame.

- ``column_chart``: one column per value (14 days × 24 hours = 336 thin columns is fine);
  ``hourly_column_chart`` labels them by hour with a tick at each midnight.
- ``line_chart``: several series over the same points with a legend;
  ``colour_series`` makes the green / yellow / red residents series (yellow's legend text
  dark, for contrast).

The value axis starts at 0 and ends at the largest value, so the tallest column or highest
point touches the top of the plot area; its ticks are round numbers at or below it.
"""

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

# The drawing's own units; the viewBox scales them to the page (375 px wide on a phone).
WIDTH, HEIGHT = 400, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 30, 46
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
FONT = '"PingFang SC", "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif'
INK, MUTED, GRID = "#1f1f1f", "#5f6368", "#e0e0e0"
NO_DATA = "暂无数据"

# The health-code colours of static/css/app.css, with the text colour that reads on each.
CODE_COLOURS = {
    "green": ("绿码", "#07a35a", "#ffffff"),
    "yellow": ("黄码", "#f2b100", INK),
    "red": ("红码", "#e23b32", "#ffffff"),
}

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")


@dataclass(frozen=True)
class Series:
    """One line: its name (in the legend), values (None where unknown), line colour and the
    colour of its legend text on that colour."""

    name: str
    values: Sequence[float | None]
    colour: str
    text_colour: str = "#ffffff"


def colour_series(counts: Mapping[str, Sequence[float | None]]) -> list[Series]:
    """Residents by health-code colour: ``{"green": [...], "yellow": [...], "red": [...]}``
    → three series in that order, named 绿码 / 黄码 / 红码 (missing colours left out)."""
    return [
        Series(name=name, values=counts[key], colour=colour, text_colour=text)
        for key, (name, colour, text) in CODE_COLOURS.items()
        if key in counts
    ]


def column_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    ticks: Sequence[tuple[int, str]] | None = None,
    unit: str = "",
    desc: str | None = None,
    chart_id: str = "chart",
    colour: str = "#1769e0",
) -> str:
    """One column per value; ``labels`` name each column (its tooltip), ``ticks`` are
    (index, text) marks under the axis (default: a few of the labels)."""
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length")
    _check_colour(colour)
    top = max(values, default=0)
    if desc is None:
        desc = _summary(labels, values, unit)
    parts = _frame(title=title, desc=desc, chart_id=chart_id)
    if not values:
        return _finish(parts + [_no_data()])
    scale_max = top if top > 0 else 1
    parts += _value_axis(scale_max, unit)
    width = PLOT_W / len(values)
    gap = min(1.0, width * 0.2)  # thin columns keep a hairline between them
    parts.append(f'<g class="bars" fill="{colour}">')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = PLOT_H * value / scale_max
        x, y = LEFT + i * width + gap / 2, TOP + PLOT_H - height
        tip = f"{label}：{_number(value)}{unit}"
        parts.append(
            f'<rect class="bar" x="{x:.2f}" y="{y:.2f}" width="{width - gap:.2f}" '
            f'height="{height:.2f}"><title>{_text(tip)}</title></rect>'
        )
    parts.append("</g>")
    parts += _category_axis(len(values), ticks if ticks is not None else _default_ticks(labels))
    return _finish(parts)


def hourly_column_chart(
    *,
    title: str,
    start: dt.datetime,
    counts: Sequence[int],
    unit: str = "人次",
    chart_id: str = "chart",
) -> str:
    """Counts per hour from ``start`` (a local hour): each column labelled 11-20 08时, a
    tick at each midnight, as many dated ticks as fit under the axis."""
    hours = [start + dt.timedelta(hours=i) for i in range(len(counts))]
    labels = [f"{h:%m-%d %H}时" for h in hours]
    midnights = [i for i, h in enumerate(hours) if h.hour == 0]
    ticks = [(i, f"{hours[i]:%m-%d}") for i in _thin(midnights)]
    return column_chart(
        title=title, labels=labels, values=counts, ticks=ticks, unit=unit, chart_id=chart_id
    )


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    ticks: Sequence[tuple[int, str]] | None = None,
    unit: str = "",
    desc: str | None = None,
    chart_id: str = "chart",
) -> str:
    """Several series over the same points (``labels``), a legend above the plot. A None
    value is a gap in its line."""
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(f"series {one.name!r} has {len(one.values)} values, not {len(labels)}")
        _check_colour(one.colour)
        _check_colour(one.text_colour)
    known = [v for one in series for v in one.values if v is not None]
    if desc is None:
        names = "、".join(one.name for one in series)
        desc = f"{names}，{len(labels)} 个时间点" if known else NO_DATA
    parts = _frame(title=title, desc=desc, chart_id=chart_id)
    if not known:
        return _finish(parts + [_no_data()])
    top = max(known)
    scale_max = top if top > 0 else 1
    parts += _value_axis(scale_max, unit)
    parts += _legend(series)
    step = PLOT_W / (len(labels) - 1) if len(labels) > 1 else 0
    for one in series:
        points = [
            (LEFT + (i * step if step else PLOT_W / 2), TOP + PLOT_H - PLOT_H * v / scale_max, i, v)
            for i, v in enumerate(one.values)
            if v is not None
        ]
        parts.append(f'<g class="series" stroke="{one.colour}" fill="{one.colour}">')
        parts += [
            f'<polyline fill="none" stroke-width="2" points="{_points(run)}"/>'
            for run in _runs(points)
        ]
        parts += [
            f'<circle class="point" cx="{x:.2f}" cy="{y:.2f}" r="2.5">'
            f"<title>{_text(f'{one.name} {labels[i]}：{_number(v)}{unit}')}</title></circle>"
            for x, y, i, v in points
        ]
        parts.append("</g>")
    parts += _category_axis(
        len(labels), ticks if ticks is not None else _default_ticks(labels), points=True
    )
    return _finish(parts)


# --- Pieces ------------------------------------------------------------------------------


def _frame(*, title: str, desc: str, chart_id: str) -> list[str]:
    cid = re.sub(r"[^A-Za-z0-9_-]", "-", chart_id) or "chart"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" class="chart" '
        f'font-family="{_attr(FONT)}" font-size="11" fill="{INK}">',
        f'<title id="{cid}-title">{_text(title)}</title>',
        f'<desc id="{cid}-desc">{_text(desc)}</desc>',
        f'<text class="chart-title" x="{LEFT}" y="16" font-size="13" '
        f'font-weight="bold">{_text(title)}</text>',
        f'<rect class="plot-area" x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" '
        f'fill="none" stroke="{GRID}"/>',
    ]


def _finish(parts: list[str]) -> str:
    return "\n".join(parts + ["</svg>"])


def _no_data() -> str:
    return (
        f'<text class="empty" x="{LEFT + PLOT_W / 2:.1f}" y="{TOP + PLOT_H / 2:.1f}" '
        f'text-anchor="middle" dominant-baseline="middle" font-size="14" '
        f'fill="{MUTED}">{NO_DATA}</text>'
    )


def _value_axis(scale_max: float, unit: str) -> list[str]:
    """Gridlines and labels at round steps from 0 up to ``scale_max``."""
    step = _nice_step(scale_max)
    parts = [f'<g class="y-ticks" font-size="10" fill="{MUTED}" text-anchor="end">']
    for k in range(int(scale_max / step + 1e-9) + 1):
        value = k * step
        y = TOP + PLOT_H - PLOT_H * value / scale_max
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.2f}" y2="{y:.2f}" stroke="{GRID}"/>'
        )
        parts.append(f'<text x="{LEFT - 4}" y="{y + 3.5:.2f}">{_text(_number(value))}</text>')
    if unit:
        parts.append(f'<text x="{LEFT - 4}" y="{TOP - 6}">{_text(unit)}</text>')
    parts.append("</g>")
    return parts


def _category_axis(
    count: int, ticks: Sequence[tuple[int, str]], *, points: bool = False
) -> list[str]:
    """Tick marks and labels under the plot, at column centres (or at points)."""
    width = PLOT_W / count
    parts = [
        f'<line class="x-axis" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{TOP + PLOT_H}" '
        f'y2="{TOP + PLOT_H}" stroke="{MUTED}"/>',
        f'<g class="x-ticks" font-size="10" fill="{MUTED}" text-anchor="middle">',
    ]
    for index, text in ticks:
        if points:
            x = LEFT + (PLOT_W * index / (count - 1) if count > 1 else PLOT_W / 2)
        else:
            x = LEFT + width * index
        y = TOP + PLOT_H
        parts.append(f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{y}" y2="{y + 4}" stroke="{MUTED}"/>')
        parts.append(f'<text x="{x:.2f}" y="{y + 16}">{_text(text)}</text>')
    parts.append("</g>")
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    """Filled chips in a row under the axis labels, each name in its text colour on the
    line's colour (dark on yellow)."""
    parts, x, y = ['<g class="legend" font-size="11">'], LEFT, HEIGHT - 19
    for one in series:
        chip = 12 * len(one.name) + 12  # CJK glyphs are about one em wide
        parts.append(
            f'<rect x="{x}" y="{y}" width="{chip}" height="16" rx="8" fill="{one.colour}"/>'
        )
        parts.append(
            f'<text class="legend-label" x="{x + chip / 2}" y="{y + 12}" text-anchor="middle" '
            f'fill="{one.text_colour}">{_text(one.name)}</text>'
        )
        x += chip + 6
    parts.append("</g>")
    return parts


def _default_ticks(labels: Sequence[str]) -> list[tuple[int, str]]:
    return [(i, labels[i]) for i in _thin(range(len(labels)))]


def _thin(indexes: Sequence[int], most: int = 6) -> list[int]:
    """At most ``most`` of ``indexes``, evenly spread, keeping the first."""
    indexes = list(indexes)
    every = max(1, math.ceil(len(indexes) / most))
    return indexes[::every]


def _runs(points):
    """Consecutive points (no None between them) as separate runs of the line."""
    run: list = []
    for point in points:
        if run and point[2] != run[-1][2] + 1:
            yield run
            run = []
        run.append(point)
    if run:
        yield run


def _points(run) -> str:
    return " ".join(f"{x:.2f},{y:.2f}" for x, y, _i, _v in run)


def _nice_step(top: float, count: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) giving about ``count`` gridlines up to ``top``."""
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 2.5, 5, 10) if magnitude >= 10 else (1, 2, 5, 10)  # no 2.5 people
    return next(m * magnitude for m in steps if m * magnitude >= raw)


def _number(value: float) -> str:
    """12, 1.5, 3.2万 — counts of residents run to millions."""
    if abs(value) >= 10000:
        return f"{value / 10000:.4g}万"
    return f"{value:g}" if value != int(value) else str(int(value))


def _summary(labels: Sequence[str], values: Sequence[float], unit: str) -> str:
    if not values:
        return NO_DATA
    top = max(range(len(values)), key=values.__getitem__)
    return (
        f"{len(values)} 个数据，合计 {_number(sum(values))}{unit}，"
        f"最多 {_number(values[top])}{unit}（{labels[top]}）"
    )


def _check_colour(colour: str) -> None:
    # Only #rgb / #rrggbb: a colour cannot smuggle url(...) or quotes into an attribute.
    if not _HEX_COLOUR.fullmatch(colour):
        raise ValueError(f"not a #rrggbb colour: {colour!r}")


def _text(value: str) -> str:
    return escape(str(value))


def _attr(value: str) -> str:
    return escape(str(value), {'"': "&quot;"})
