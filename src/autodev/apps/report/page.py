"""A run's page: `autodev report RUN --html FILE` — one self-contained HTML file to read a run or hand it on.

Summary, timeline, agents (time, cost, tokens), the test step, the reviewers' verdicts, each agent's
handoff and the diff, in that order. Self-contained: the CSS is inline, the timeline is inline SVG,
and nothing is fetched or run — the page carries no script, and its Content-Security-Policy refuses
scripts, images and fetches in case a handoff ever smuggled markup past the escaping.

Everything that comes from the run (the request, handoffs, the diff, commands, errors, even agent
names) is untrusted text: it goes through `redact` (secrets, as everywhere else) and then
`html.escape`, and nowhere else is text put into the page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from autodev.agent.verdicts import parse_verdict
from autodev.apps.report.timeline import render_svg, spans_of
from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.core.redact import redact
from autodev.run.gate.summary import GateSection
from autodev.run.report import AgentRow, RunReport
from autodev.run.report_view import RunReportView
from autodev.run.state import RunState

DIFF_LIMIT = 200_000  # characters of diff shown; the branch holds the whole change
POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
SECTIONS = ("summary", "timeline", "agents", "tests", "verdicts", "handoffs", "diff")  # the page's ids, in order
LEGEND = (
    "input: prompt tokens not read from the cache; cache read / cache write: prompt tokens read from / "
    "written to the provider's prompt cache; peak context: the largest prompt of one turn; handoff: the "
    "note the agent passed on to the agents after it."
)
OVERLAP_MEANING = "agent time ÷ wall: agents at work at once, on average"

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1320px;color:#222;
padding:0 16px;line-height:1.4}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.request{font-size:15px;margin:4px 0 12px;white-space:pre-wrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}dt{color:#666}dd{margin:0}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{padding:3px 8px;text-align:left;
border-bottom:1px solid #eee;white-space:nowrap}th{background:#f6f6f6}td.n,th.n{text-align:right}
td:last-child{white-space:normal;min-width:140px}
tr.total td{font-weight:bold;border-top:1px solid #999}.legend{color:#666;font-size:12px}
.scroll{overflow-x:auto}pre{background:#f8f8f8;border:1px solid #e4e4e4;padding:8px;font-size:12px;
white-space:pre-wrap;word-break:break-word;margin:4px 0}
.diff span{display:block}.diff .add{background:#e6ffec}.diff .del{background:#ffebe9}.diff .hunk{color:#0550ae}
.diff .file{font-weight:bold}.done,.passed,.APPROVE{color:#1a7f37}.failed,.REQUEST_CHANGES{color:#cf222e}
.skipped,.cancelled,.none{color:#777}summary{cursor:pointer;font-weight:bold}details{margin:6px 0}
.status{font-weight:bold}
"""


@dataclass(frozen=True)
class RunDiff:
    """The run's change as the page shows it: what it is of (the commit, a checkpoint, nothing yet)."""

    of: str
    text: str
    truncated: bool = False


def _t(value: object) -> str:
    """Run text made safe for the page: secrets redacted, then HTML-escaped (quotes too)."""
    return html.escape(redact(str(value)), quote=True)


def run_diff(root: Path, state: RunState) -> RunDiff:
    """The run's change against its base commit: its commit when done, else its newest checkpoint.

    Only commits are read, never the worktree, so the page of a live run does not touch its index."""
    head = state.commit or state.checkpoint
    if head is None or not state.base_commit:
        return RunDiff("Nothing yet: the run has no commit and no checkpoint.", "")
    args = ["diff", *gitops.NO_PROGRAMS, "--no-color", "--unified=3", state.base_commit, head]
    result = gitops.git(args, root, check=False)
    if result.returncode != 0:
        return RunDiff(f"Unavailable: {result.stderr.strip()[:200]} (was the branch removed?)", "")
    of = (
        f"The run's commit {head[:12]} against its base commit."
        if state.commit
        else f"The run's newest checkpoint {head[:12]} against its base commit (the run has no commit yet)."
    )
    return RunDiff(of, result.stdout[:DIFF_LIMIT], len(result.stdout) > DIFF_LIMIT)


def _moment(iso_time: str) -> str:
    """An ISO time as people read it: `2026-12-03 14:58:09 UTC`."""
    try:
        moment = datetime.fromisoformat(iso_time).astimezone(UTC)
    except ValueError:
        return iso_time
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _summary(view: RunReportView) -> str:
    one, state = view.report, view.state
    overlap = f"{one.overlap:.2f} ({OVERLAP_MEANING})" if one.overlap is not None else "n/a"
    cost = f"${one.totals.cost_usd:.4f}" if one.totals.cost_usd is not None else "unknown (a model has no price)"
    rows = [
        ("status", f'<span class="status {_t(one.status)}">{_t(one.status)}</span>'),
        ("branch", _t(state.branch or "-")),
        ("commit", _t(state.commit or "none")),
        ("base commit", _t(state.base_commit or "-")),
        ("cost", _t(cost)),
        ("wall", _t(f"{one.wall_s:.2f} s; agent time {one.totals.duration_s:.2f} s")),
        ("overlap", _t(overlap)),
        ("critical path", _t(f"{one.critical_path_s:.2f} s: {' → '.join(one.critical_path) or '-'}")),
        ("started", _t(_moment(state.created_at))),
    ]
    if one.error:
        rows.append(("error", f"<pre>{_t(one.error)}</pre>"))
    rows += [("warning", _t(warning)) for warning in state.warnings]
    rows += [("bottleneck", _t(line)) for line in view.bottlenecks]
    rows += [("hint", _t(line)) for line in view.hints]
    items = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return (
        f'<section id="summary"><h1>autodev run {_t(one.run_id)}</h1>'
        f'<p class="request">{_t(one.request)}</p><dl>{items}</dl></section>'
    )


def _timeline(view: RunReportView) -> str:
    spans = spans_of(view.records)
    drawing = render_svg(view.report, spans) if spans else "<p>No agent ran.</p>"
    return f'<section id="timeline"><h2>Timeline</h2><div class="scroll">{drawing}</div></section>'


AGENT_COLUMNS = (
    ("agent", False), ("status", False), ("tier", False), ("model", False), ("time s", True), ("turns", True),
    ("cost", True), ("input", True), ("output", True), ("cache read", True), ("cache write", True),
    ("peak context", True), ("handoff", True), ("tool calls", False),
)  # fmt: skip


def _money(value: float | None) -> str:
    return f"${value:.4f}" if value is not None else "n/a"


def _cells(values: list[str]) -> str:
    return "".join(
        f'<td class="n">{value}</td>' if numeric else f"<td>{value}</td>"
        for value, (_, numeric) in zip(values, AGENT_COLUMNS, strict=False)
    )


def _agent_row(row: AgentRow) -> str:
    status = f'<span class="{_t(row.status)}">{_t(row.status)}</span>'
    if not row.runs:
        return f"<tr><td>{_t(row.agent)}</td><td>{status}</td><td colspan=12>{_t(row.skip_reason or '')}</td></tr>"
    tools = ", ".join(f"{name} {count}" for name, count in sorted(row.tool_calls.items()))
    values = [
        _t(row.agent), status, _t(row.tier or ""), _t(row.model or ""), f"{row.duration_s:.2f}", str(row.turns),
        _money(row.cost_usd), f"{row.input_tokens:,}", f"{row.output_tokens:,}", f"{row.cache_read_tokens:,}",
        f"{row.cache_write_tokens:,}", f"{row.peak_context:,}", f"{row.handoff_tokens:,}", _t(tools),
    ]  # fmt: skip
    return f"<tr>{_cells(values)}</tr>"


def _agents(one: RunReport) -> str:
    head = "".join(f'<th class="n">{name}</th>' if numeric else f"<th>{name}</th>" for name, numeric in AGENT_COLUMNS)
    t = one.totals
    total = [
        "total", "", "", "", f"{t.duration_s:.2f}", str(t.turns), _money(t.cost_usd), f"{t.input_tokens:,}",
        f"{t.output_tokens:,}", f"{t.cache_read_tokens:,}", f"{t.cache_write_tokens:,}", "", "", "",
    ]  # fmt: skip
    rows = "".join(_agent_row(row) for row in one.agents)
    return (
        f'<section id="agents"><h2>Agents</h2><div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f'<tbody>{rows}<tr class="total">{_cells(total)}</tr></tbody></table></div>'
        f'<p class="legend">Tokens — {_t(LEGEND)}</p></section>'
    )


def _tests(gate: GateSection | None) -> str:
    if gate is None:
        body = "<p>Not run: the run ended before its tests.</p>"
    elif gate.status == "skipped":
        body = f'<p><span class="skipped">skipped</span>: {_t(gate.reason or "")}</p>'
    else:
        status = gate.status or "running"
        last = f" (last {gate.last_duration_s:.2f} s)" if gate.runs > 1 and gate.last_duration_s is not None else ""
        ended = gate.exit_code if gate.exit_code is not None else "none (timed out or did not start)"
        rows = [
            ("status", f'<span class="status {_t(status)}">{_t(status)}</span>'),
            ("runs", _t(f"{gate.runs} run(s), {gate.duration_s:.2f} s{last}, exit {ended}")),
            ("after", _t(gate.after or "-")),
            ("command", f"<code>{_t(gate.command or '-')}</code>"),
            ("environment", _t(gate.environment or "not recorded")),
            ("counts", _t(gate.counts.describe() if gate.counts else "not reported by the runner")),
        ]
        if gate.failing:
            rows.append(("failing", _t(", ".join(gate.failing))))
        body = "<dl>" + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows) + "</dl>"
    return f'<section id="tests"><h2>Tests</h2>{body}</section>'


def _verdicts(state: RunState) -> str:
    found = []
    for name, agent in state.agents.items():
        verdict = parse_verdict(agent.handoff) if agent.handoff else None
        if verdict is None or verdict.decision is None:
            continue
        findings = f"<pre>{_t(verdict.findings)}</pre>" if verdict.findings.strip() else ""
        found.append(
            f'<div class="verdict"><b>{_t(name)}</b>: '
            f'<span class="status {verdict.decision}">{verdict.decision}</span>{findings}</div>'
        )
    body = "".join(found) or "<p>No verdicts: no reviewing agent finished.</p>"
    return f'<section id="verdicts"><h2>Verdicts</h2>{body}</section>'


def _handoffs(view: RunReportView) -> str:
    tokens = {row.agent: row.handoff_tokens for row in view.report.agents}
    parts = [
        f'<details open class="handoff"><summary>{_t(name)} — {tokens.get(name, 0):,} tokens</summary>'
        f"<pre>{_t(agent.handoff)}</pre></details>"
        for name, agent in view.state.agents.items()
        if agent.handoff
    ]
    body = "".join(parts) or "<p>No handoffs: no agent finished.</p>"
    return f'<section id="handoffs"><h2>Handoffs</h2>{body}</section>'


def _diff_line(line: str) -> str:
    kind = (
        "file"
        if line.startswith(("diff --git", "+++ ", "--- "))
        else "hunk"
        if line.startswith("@@")
        else "add"
        if line.startswith("+")
        else "del"
        if line.startswith("-")
        else ""
    )
    return f'<span class="{kind}">{_t(line) or " "}</span>' if kind else f"<span>{_t(line) or ' '}</span>"


def _diff(change: RunDiff) -> str:
    cut = f"<p>Cut at {DIFF_LIMIT:,} characters: the branch holds the whole change.</p>" if change.truncated else ""
    lines = "".join(_diff_line(line) for line in change.text.splitlines())
    body = f'<pre class="diff">{lines}</pre>' if lines else "<p>No changes.</p>"
    return f'<section id="diff"><h2>Diff</h2><p>{_t(change.of)}</p>{cut}{body}</section>'


def render_page(view: RunReportView, change: RunDiff) -> str:
    """The page's HTML: every run value escaped, no script, a policy that would refuse one."""
    sections = [
        _summary(view),
        _timeline(view),
        _agents(view.report),
        _tests(view.report.gate),
        _verdicts(view.state),
        _handoffs(view),
        _diff(change),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>autodev run {_t(view.report.run_id)}</title><style>{STYLE}</style></head><body>"
        + "".join(sections)
        + "<footer class='legend'><p>Written by <code>autodev report --html</code>.</p></footer></body></html>\n"
    )


def write_page(root: Path, view: RunReportView, path: Path) -> None:
    """Render the run's page to `path` (a bad path is the user's error: one line, exit 2)."""
    page = render_page(view, run_diff(root, view.state))
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--html {path}: cannot write it: {exc.strerror or exc}", hint="name a writable file") from exc
