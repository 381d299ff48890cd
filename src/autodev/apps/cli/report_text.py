"""`autodev report RUN`'s text: one run's agents, tokens, tests and figures, laid out for 80 columns.

Two tables instead of one wide one (time and money, then tokens), full words for headers, and a
legend under the tokens table: a reader who has never seen the report can tell what each column
holds. Free text (the request, a command, the critical path, hints) wraps at the console's width.

One word, one meaning: `overlap` is agent time / wall (how many agents were at work at once, on
average); `efficiency` belongs to `autodev bench` (its bound / wall) and is not used here.
"""

from __future__ import annotations

from rich.markup import escape as esc

from autodev.apps.cli.common import money, out
from autodev.apps.cli.screen import NARROW, fit, wrap, wrap_items
from autodev.run.gate.summary import GATE_LANE, GateSection
from autodev.run.report import AgentRow, RunReport
from autodev.run.report_view import RunReportView

NAME_W = 17  # the agent column of both tables
TIME_COLUMNS = (("status", 11), ("tier", 8), ("model", 17), ("time s", 7), ("turns", 5), ("cost", 8))
TOKEN_COLUMNS = (("input", 9), ("output", 7), ("cache read", 10), ("cache write", 11), ("peak context", 12))
TOKEN_COLUMNS_LAST = ("handoff", 7)
LEGEND = (
    "Tokens: input = prompt tokens not read from the cache; cache read / cache write = prompt tokens "
    "read from / written to the provider's prompt cache (cheaper / dearer than input); peak context = "
    "the largest prompt of one turn; handoff = the note the agent passed to the agents after it."
)
LABEL_W = 15  # "critical path  ": the labels of the run's figures
OVERLAP_MEANING = "agent time / wall: agents at work at once, on average"


def _width() -> int:
    return max(out.width, 40)


def _say(text: str, *, label: str = "", style: str = "", indent: int | None = None) -> None:
    """Plain `text` wrapped to the console's width under `label`, escaped, in one `style`."""
    for line in wrap(text, _width(), label=label, indent=indent):
        out.print(f"[{style}]{esc(line)}[/]" if style else esc(line), highlight=False)


def _say_items(items: list[str], *, label: str, joiner: str = ", ", indent: int | None = None) -> None:
    """Items (`Read 2`, `retrieval 1.82s`, agent names) wrapped between items, never inside one."""
    for line in wrap_items(items, _width(), label=label, joiner=joiner, indent=indent):
        out.print(esc(line), highlight=False)


def _name(agent: str) -> str:
    return f"{fit(agent, NAME_W):<{NAME_W}}"


def _time_row(row: AgentRow) -> str:
    model = fit(row.model or "", 17)
    return (
        f"{_name(row.agent)} {row.status:<11} {row.tier or '':<8} {model:<17} {row.duration_s:>7.2f} "
        f"{row.turns:>5} {money(row.cost_usd):>8}"
    )


def _token_row(name: str, row: AgentRow | None, totals: tuple[int, int, int, int]) -> str:
    tokens_in, tokens_out, read, written = totals
    tail = f" {row.peak_context:>12,} {row.handoff_tokens:>7,}" if row is not None else ""
    return f"{_name(name)} {tokens_in:>9,} {tokens_out:>7,} {read:>10,} {written:>11,}{tail}"


def _header(first: str, columns: tuple[tuple[str, int], ...], *, left: int = 3) -> str:
    """A header line: the first `left` columns left-aligned like their values, the rest right-aligned."""
    cells = [
        f"{title:<{width}}" if index < left else f"{title:>{width}}" for index, (title, width) in enumerate(columns)
    ]
    return f"{first:<{NAME_W}} " + " ".join(cells)


def print_run(view: RunReportView) -> None:
    """The whole text report of one run."""
    one = view.report
    out.print(f"[bold]run {one.run_id}[/]  {one.status}", highlight=False)
    _say(one.request, label="request  ")
    if one.error:  # its first line; a failed gate's error goes on with the test output, which --json keeps whole
        first, *rest = one.error.splitlines() or [""]
        more = f" ({len(rest)} more lines: autodev report --json)" if rest else ""
        _say(first.rstrip(":") + more, label="error:   ", style="red")
    _print_agents(one)
    _print_tokens(one)
    _print_tools(one)
    _print_gate(one.gate)
    _print_figures(view)


def _print_agents(one: RunReport) -> None:
    out.print("\n[bold]Agents: time and cost[/]")
    out.print(_header("agent", TIME_COLUMNS), highlight=False)
    for row in one.agents:
        if not row.runs:
            reason = fit(str(row.skip_reason or ""), NARROW - NAME_W - 13)
            out.print(f"[dim]{esc(_name(row.agent))} {row.status:<11} {esc(reason)}[/]", highlight=False)
            continue
        out.print(esc(_time_row(row)), highlight=False)
    totals = one.totals
    out.print(
        f"{'total':<{NAME_W}} {'':<11} {'':<8} {'':<17} {totals.duration_s:>7.2f} {totals.turns:>5} "
        f"{money(totals.cost_usd):>8}",
        highlight=False,
    )


def _print_tokens(one: RunReport) -> None:
    out.print("\n[bold]Agents: tokens[/]")
    out.print(_header("agent", (*TOKEN_COLUMNS, TOKEN_COLUMNS_LAST), left=0), highlight=False)
    for row in one.agents:
        if row.runs:
            figures = (row.input_tokens, row.output_tokens, row.cache_read_tokens, row.cache_write_tokens)
            out.print(esc(_token_row(row.agent, row, figures)), highlight=False)
    t = one.totals
    out.print(_token_row("total", None, (t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens)))
    _say(LEGEND, style="dim")


def _print_tools(one: RunReport) -> None:
    used = [row for row in one.agents if row.tool_calls]
    if not used:
        return
    out.print("\n[bold]Tool calls[/]")
    for row in used:
        calls = [f"{name} {count}" for name, count in sorted(row.tool_calls.items())]
        _say_items(calls, label=f"{_name(row.agent)} ")


def _print_gate(gate: GateSection | None) -> None:
    """The test step's section: how it ended, what ran where, the counts and the failing tests."""
    out.print("\n[bold]Tests[/]")
    if gate is None:
        out.print(f"{GATE_LANE:<{NAME_W}} [dim]not run (the run ended before its tests)[/]")
        return
    if gate.status == "skipped":
        _say(f"skipped: {gate.reason or ''}", label=f"{GATE_LANE:<{NAME_W}} ", style="dim")
        return
    colour = "green" if gate.status == "passed" else "red"
    last = f" (last {gate.last_duration_s:.2f}s)" if gate.runs > 1 and gate.last_duration_s is not None else ""
    ended = gate.exit_code if gate.exit_code is not None else "none (timed out or did not start)"
    status = f"{gate.status or 'running'}  "
    said = f"{gate.runs} run(s), {gate.duration_s:.2f}s{last}, exit {ended}"
    lines = wrap(said, _width() - NAME_W - 1, label=" " * len(status))
    first = lines[0][len(status) :]
    out.print(f"{GATE_LANE:<{NAME_W}} [{colour}]{status}[/]{esc(first)}", highlight=False)
    for line in lines[1:]:
        out.print(esc(" " * (NAME_W + 1) + line), highlight=False)
    _say(gate.command or "-", label="  command      ")
    _say(gate.environment or "not recorded", label="  environment  ")
    _say(gate.counts.describe() if gate.counts else "not reported by the runner", label="  counts       ")
    if gate.failing:
        _say(", ".join(gate.failing), label="  failing      ")


def _print_figures(view: RunReportView) -> None:
    one, totals = view.report, view.report.totals
    overlap = f"{one.overlap:.2f}" if one.overlap is not None else "n/a"
    tests = f"; tests {one.gate.duration_s:.2f}s" if one.gate and one.gate.runs else ""
    out.print("\n[bold]Run[/]")
    _say(f"{one.wall_s:.2f}s; agent time {totals.duration_s:.2f}s{tests}", label="wall           ")
    _say(f"{overlap} ({OVERLAP_MEANING})", label="overlap        ")
    path = f"critical path  {one.critical_path_s:.2f}s: "
    _say_items(one.critical_path or ["-"], label=path, joiner=" ->", indent=LABEL_W)
    budget = view.handoff_budget()
    if budget:
        parts = [f"{name} {tokens}" for name, tokens in budget.get("per_agent", {}).items()]
        label = f"handoffs       {budget.get('total')} of {budget.get('budget')} tokens: "
        _say_items(parts, label=label, indent=LABEL_W)
        for name, change in budget.get("compacted", {}).items():
            _say(
                f"{name} compacted {change['from']} -> {change['to']} tokens (full text in its session file)",
                label="  ",
            )
    if one.timers:
        timers = [f"{name} {seconds:.2f}s" for name, seconds in sorted(one.timers.items())]
        _say_items(timers, label="timers         ")
    for line in view.bottlenecks:
        _say(line, label="bottleneck: ", style="yellow")
    for line in view.hints:
        _say(line, label="hint: ", style="cyan")
