"""A run's timeline: one lane per agent on a time axis, coloured by tier, the critical path outlined.

The test step has its lane too (`tests`, after the agent it follows): a long test run is the run's
time, and the picture must not show it as an empty gap.

SVG is the one drawing; HTML wraps it in a self-contained page and PNG rasterises the same layout
with Pillow, so the three formats can't disagree.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autodev.core.errors import UserError
from autodev.core.records import AgentRecord, MetricRecord, of_kind
from autodev.run.gate.summary import GATE_LANE, gate_spans
from autodev.run.report import RunReport

TIER_COLOURS = {"fast": "#4caf50", "balanced": "#2196f3", "deep": "#9c27b0", "custom": "#ff9800"}
GATE_COLOUR = "#607d8b"  # the test step's bars: not an agent, so no tier
LANE_H, BAR_H, LABEL_W, PLOT_W, TOP, BOTTOM = 34, 22, 170, 760, 48, 40


@dataclass(frozen=True)
class Bar:
    agent: str
    tier: str
    start_s: float
    end_s: float
    critical: bool


def spans_of(records: Iterable[MetricRecord]) -> dict[str, list[tuple[str, str]]]:
    """Each timeline lane's runs: the agents' from their records, the tests' from their timers."""
    records = list(records)
    spans: dict[str, list[tuple[str, str]]] = {}
    for record in of_kind(records, AgentRecord):
        if record.started_at and record.ended_at:
            spans.setdefault(record.agent, []).append((record.started_at, record.ended_at))
    if tests := gate_spans(records):
        spans[GATE_LANE] = tests
    return spans


def lanes(report: RunReport, spans: dict[str, list[tuple[str, str]]]) -> list[str]:
    """The lanes top to bottom: the agents that ran, in pipeline order, and the tests after the agent
    they followed (last when that is not known)."""
    order = [row.agent for row in report.agents if row.agent in spans and row.agent != GATE_LANE]
    if GATE_LANE in spans:
        after = report.gate.after if report.gate is not None else None
        order.insert(order.index(after) + 1 if after in order else len(order), GATE_LANE)
    return order


def bars(report: RunReport, spans: dict[str, list[tuple[str, str]]]) -> tuple[list[Bar], float]:
    """Bars from each lane's recorded runs (`spans`: agent or `tests` -> [(started_at, ended_at), ...])."""
    moments = [datetime.fromisoformat(t) for runs in spans.values() for pair in runs for t in pair]
    if not moments:
        return [], 0.0
    origin, end = min(moments), max(moments)
    tiers = {row.agent: row.tier or "custom" for row in report.agents}
    out = []
    for lane in lanes(report, spans):
        for started, ended in spans[lane]:
            out.append(
                Bar(
                    lane,
                    GATE_LANE if lane == GATE_LANE else tiers.get(lane, "custom"),
                    (datetime.fromisoformat(started) - origin).total_seconds(),
                    (datetime.fromisoformat(ended) - origin).total_seconds(),
                    lane in report.critical_path,
                )
            )
    return out, (end - origin).total_seconds()


def _colour(tier: str) -> str:
    return GATE_COLOUR if tier == GATE_LANE else TIER_COLOURS.get(tier, "#999999")


def _layout(report: RunReport, spans: dict[str, list[tuple[str, str]]]) -> tuple[list[str], list[Bar], float, int]:
    drawn, total = bars(report, spans)
    lanes_drawn = lanes(report, spans)
    return lanes_drawn, drawn, max(total, 1e-6), TOP + LANE_H * len(lanes_drawn) + BOTTOM


def _x(seconds: float, total: float) -> float:
    return LABEL_W + PLOT_W * seconds / total


def _ticks(total: float) -> list[tuple[float, str]]:
    """Axis ticks 1, 2 or 5 x 10^k seconds apart (four to nine of them), each with its label."""
    if total < 1e-3:
        return [(0.0, "0s")]
    raw = total / 8
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return [(i * step, f"{i * step:.{decimals}f}s") for i in range(int(total / step + 1e-9) + 1)]


def render_svg(report: RunReport, spans: dict[str, list[tuple[str, str]]]) -> str:
    rows, drawn, total, height = _layout(report, spans)
    width = LABEL_W + PLOT_W + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">run {html.escape(report.run_id)} — '
        f"{report.wall_s:.2f} s wall, critical path {report.critical_path_s:.2f} s</text>",
    ]
    for index, lane in enumerate(rows):
        y = TOP + index * LANE_H
        parts.append(f'<text x="10" y="{y + BAR_H - 6}">{html.escape(lane)}</text>')
        parts.append(
            f'<line x1="{LABEL_W}" y1="{y + LANE_H - 4}" x2="{LABEL_W + PLOT_W}" y2="{y + LANE_H - 4}" stroke="#eee"/>'
        )
    for bar in drawn:
        y = TOP + rows.index(bar.agent) * LANE_H
        x0, x1 = _x(bar.start_s, total), _x(bar.end_s, total)
        outline = ' stroke="#d32f2f" stroke-width="2.5"' if bar.critical else ""
        parts.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{BAR_H}" rx="3" '
            f'fill="{_colour(bar.tier)}"{outline}>'
            f"<title>{html.escape(bar.agent)} {bar.end_s - bar.start_s:.2f}s ({bar.tier})</title></rect>"
        )
    axis_y = TOP + LANE_H * len(rows) + 12
    for seconds, label in _ticks(total):
        x = _x(seconds, total)
        parts.append(f'<text x="{x:.1f}" y="{axis_y}" text-anchor="middle">{label}</text>')
    x = 10.0  # the legend: a swatch per tier (and the tests), then the critical path's outline
    keys = {**TIER_COLOURS, **({GATE_LANE: GATE_COLOUR} if GATE_LANE in rows else {})}
    for tier, colour in keys.items():
        parts.append(f'<rect x="{x:.0f}" y="{height - 19}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16:.0f}" y="{height - 9}" fill="#555">{tier}</text>')
        x += 24 + 7 * len(tier)
    parts.append(f'<text x="{x + 6:.0f}" y="{height - 9}" fill="#555">red outline = critical path</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_html(report: RunReport, spans: dict[str, list[tuple[str, str]]]) -> str:
    swatches = "".join(
        f'<span style="background:{colour};color:white;padding:2px 8px;margin-right:6px">{tier}</span>'
        for tier, colour in {**TIER_COLOURS, **({GATE_LANE: GATE_COLOUR} if GATE_LANE in spans else {})}.items()
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>autodev run {html.escape(report.run_id)}</title></head><body style='font-family:sans-serif'>"
        f"<h2>{html.escape(report.request)}</h2><p>{swatches}</p>{render_svg(report, spans)}</body></html>\n"
    )


def render_png(report: RunReport, spans: dict[str, list[tuple[str, str]]], path: Path) -> None:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as exc:  # pragma: no cover - pillow is a dependency
        raise UserError("PNG timelines need Pillow", hint="pip install pillow, or use --timeline FILE.html") from exc
    rows, drawn, total, height = _layout(report, spans)
    width = LABEL_W + PLOT_W + 30
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text(
        (10, 8),
        f"run {report.run_id} - {report.wall_s:.2f} s wall, critical path {report.critical_path_s:.2f} s",
        fill="black",
        font=font,
    )
    for index, lane in enumerate(rows):
        y = TOP + index * LANE_H
        draw.text((10, y + 5), lane, fill="black", font=font)
        draw.line([(LABEL_W, y + LANE_H - 4), (LABEL_W + PLOT_W, y + LANE_H - 4)], fill="#eeeeee")
    for bar in drawn:
        y = TOP + rows.index(bar.agent) * LANE_H
        x0, x1 = _x(bar.start_s, total), _x(bar.end_s, total)
        box = [(x0, y), (max(x1, x0 + 1), y + BAR_H)]
        draw.rectangle(
            box,
            fill=_colour(bar.tier),
            outline="#d32f2f" if bar.critical else None,
            width=3 if bar.critical else 0,
        )
    axis_y = TOP + LANE_H * len(rows) + 2
    for seconds, label in _ticks(total):
        draw.text((_x(seconds, total) - 12, axis_y), label, fill="black", font=font)
    legend_x = 10
    legend = {**TIER_COLOURS, **({GATE_LANE: GATE_COLOUR} if GATE_LANE in rows else {})}
    for tier, colour in legend.items():
        draw.rectangle([(legend_x, height - 22), (legend_x + 12, height - 10)], fill=colour)
        draw.text((legend_x + 16, height - 23), tier, fill="black", font=font)
        legend_x += 90
    draw.text((legend_x + 10, height - 23), "red outline = critical path", fill="black", font=font)
    image.save(path, format="PNG")


def write_timeline(report: RunReport, spans: dict[str, list[tuple[str, str]]], path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in (".png", ".html", ".htm", ".svg"):
        raise UserError(f"--timeline {path}: use a .png, .html or .svg file name")
    try:
        if suffix == ".png":
            render_png(report, spans, path)
        elif suffix == ".svg":
            path.write_text(render_svg(report, spans), encoding="utf-8")
        else:
            path.write_text(render_html(report, spans), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--timeline {path}: cannot write it: {exc.strerror or exc}") from exc
