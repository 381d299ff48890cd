"""Progress of a run as it happens, on stderr so `--json` output stays clean.

On a terminal: a live table, one line per agent (waiting, running with elapsed time, turns and tokens
so far, done, skipped, failed) and the run's cost so far. Elsewhere (CI, pipes): plain lines.

The project's tests are a step too: a `tests` row (after the agent they follow) running with its
elapsed time, then passed or failed with the runner's counts, so a long test run never looks like a
run where nothing happens.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import ClassVar

from rich.console import Console
from rich.live import Live
from rich.markup import escape as esc
from rich.text import Text

from autodev.apps.cli.screen import fit, wrap
from autodev.core.redact import redact, redact_data
from autodev.run.events import RunEvent
from autodev.run.gate.summary import GATE_LANE, GateCounts

_MARKS = {"done": "[green]✓[/]", "failed": "[red]✗[/]"}
MAX_NAME_W = 24  # the agent column: as wide as the longest name, up to this
WIDE = 120  # from this many columns on, the live table shows each agent's tier and model too
MIN_DETAIL_W = 24  # narrower than this after the columns, what an agent is on goes on a line of its own


class ProgressPrinter:
    """One line per agent transition; works the same on a terminal and in a pipe."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, event: RunEvent) -> None:
        event = replace(event, detail=redact(event.detail), data=redact_data(event.data))
        agent = f"{event.agent or '':<17}"
        data = event.data
        if event.kind == "run_started":
            self.console.print(f"[bold]run {event.detail}[/] in {esc(str(data.get('worktree')))}")
            done = [name for name, info in data.get("agents", {}).items() if info.get("status") == "done"]
            if data.get("resumed"):
                self.console.print(f"  resumed; already done: {', '.join(done) or 'none'}")
        elif event.kind == "agent_started":
            again = f" (run {data['run']})" if data.get("run", 1) > 1 else ""
            self.console.print(f"  [cyan]▶[/] {agent} {data.get('tier', ''):<8} {esc(event.detail)}{again}")
        elif event.kind == "agent_finished":
            mark = _MARKS.get(event.detail, "?")
            figures = (
                f"{data['duration_s']:6.2f}s  {data['turns']} turns  "
                f"{data['input_tokens']:,} in"
                + (f" ({cached:,} cached)" if (cached := data.get("cache_read_tokens")) else "")  # a server's cache too
                + f" / {data['output_tokens']:,} out"
            )
            cost = data.get("cost_usd")
            figures += f"  ${cost:.4f}" if cost is not None else "  $ n/a"
            error = f"  [red]{esc(str(data['error']))}[/]" if data.get("error") else ""
            self.console.print(f"  {mark} {agent} {figures}{error}", highlight=False)
        elif event.kind == "agent_skipped":
            self.console.print(f"  [dim]- {agent} skipped: {esc(event.detail)}[/]")
        elif event.kind == "agent_blocked":
            self.console.print(f"  [yellow]- {agent} {esc(event.detail)}[/]")
        elif event.kind == "gate" and data.get("baseline"):
            self.console.print(f"  [dim]· tests {esc(event.detail)}[/]", highlight=False)
        elif event.kind == "gate" and event.detail == "started":
            again = f" (run {data['attempt']})" if data.get("attempt", 1) > 1 else ""
            command = " ".join(data.get("command") or ())
            lines = wrap(f"{command}{again}", self.console.width, label=f"  ▶ {GATE_LANE:<17} ", indent=6)
            self.console.print(esc("\n".join(lines)).replace("▶", "[cyan]▶[/]", 1), highlight=False)
        elif event.kind == "gate":
            colour = "green" if event.detail == "passed" else "yellow"
            lines = wrap(f"{event.detail}{_gate_figures(data)}", self.console.width, label="  ■ tests ", indent=6)
            self.console.print(f"[{colour}]{esc(chr(10).join(lines))}[/]", highlight=False)
        elif event.kind == "note":
            self.console.print(f"  [yellow]↻ {agent} {esc(event.detail)}[/]")


def _gate_figures(data: dict[str, object]) -> str:
    """A finished gate event's time and counts ("" for an event without them: a skip, an older sender)."""
    figures = ""
    duration = data.get("duration_s")
    if isinstance(duration, int | float):
        figures += f"  {duration:.2f}s"
    tests = data.get("tests")
    counts = GateCounts.of(tests if isinstance(tests, dict) else None)
    if counts is not None:
        figures += f"  {counts.describe()}"
    elif data.get("exit_code") is not None:
        figures += f"  exit {data['exit_code']}"
    return figures


class _Row:
    def __init__(self, tier: str, model: str, *, priced: bool = True) -> None:
        self.tier, self.model = tier, model
        self.priced = priced  # False: a step that calls no model (the tests) has no cost column
        self.status = "waiting"
        self.detail = ""  # once over: its error, skip reason or test counts
        self.doing = ""  # while it runs: its current tool call (`Edit textkit/strings.py`)
        self.started = 0.0
        self.elapsed = 0.0
        self.turns = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.cost: float | None = 0.0


class LiveProgress:
    """A live table on a terminal: one line per agent, updated as turns come in, and the cost so far."""

    STYLES: ClassVar[dict[str, str]] = {
        "waiting": "dim",
        "running": "cyan",
        "done": "green",
        "passed": "green",
        "failed": "red",
        "skipped": "dim",
        "cancelled": "yellow",
    }

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: dict[str, _Row] = {}
        self.finished_cost: float | None = 0.0
        self.notes: list[str] = []
        self.title = ""
        self._live = Live(console=console, get_renderable=self._render, refresh_per_second=4, transient=False)

    def __enter__(self) -> LiveProgress:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The live table steps aside while the user is asked something (an `--approve` point)."""
        self._live.stop()
        try:
            yield
        finally:
            self._live.start()

    def __call__(self, event: RunEvent) -> None:
        event = replace(event, detail=redact(event.detail), data=redact_data(event.data))
        data, row = event.data, self.rows.get(event.agent or "")
        if event.kind == "run_started":
            self.title = f"run {event.detail}"
            for name, info in data.get("agents", {}).items():
                self.rows[name] = _Row(str(info.get("tier") or ""), str(info.get("model") or ""))
                if info.get("status") in ("done", "skipped"):  # a resumed run: finished before it stopped
                    self.rows[name].status = str(info["status"])
        elif event.kind == "gate":
            self._gate(event)
        elif event.kind == "note":  # a note may name an agent (a remediation cycle): show it all the same
            self.notes.append(event.detail)
        elif row is None:
            return
        elif event.kind == "agent_started":
            # A rerun starts from zero: its turns, tokens and cost so far are this run's, not the last one's.
            row.status, row.started, row.turns = "running", time.monotonic(), 0
            row.tokens_in, row.tokens_out, row.cost, row.detail, row.doing = 0, 0, 0.0, "", ""
            row.model = event.detail
        elif event.kind == "agent_tool":
            row.doing = event.detail
        elif event.kind == "agent_turn":
            row.turns, row.tokens_in, row.tokens_out = data["turns"], data["input_tokens"], data["output_tokens"]
            row.cost = data.get("cost_usd")
        elif event.kind == "agent_finished":
            row.status, row.elapsed, row.doing = event.detail, data["duration_s"], ""
            row.cost = data.get("cost_usd")
            if self.finished_cost is not None:
                self.finished_cost = None if row.cost is None else self.finished_cost + row.cost
            row.detail = str(data.get("error") or "")
        elif event.kind in ("agent_skipped", "agent_blocked"):
            row.status = "skipped" if event.kind == "agent_skipped" else "cancelled"
            row.detail = event.detail

    def _gate(self, event: RunEvent) -> None:
        """The `tests` row: placed after the agent the tests follow, running, then passed, failed or skipped."""
        data = event.data
        if data.get("baseline"):  # the tests at the base commit: a note, not the gate's row
            self.notes.append(event.detail)
            return
        row = self.rows.get(GATE_LANE)
        if row is None:
            row = _Row("", "", priced=False)
            items = list(self.rows.items())
            after = data.get("after")
            at = next((index + 1 for index, (name, _) in enumerate(items) if name == after), len(items))
            self.rows = dict([*items[:at], (GATE_LANE, row), *items[at:]])
        if event.detail == "started":
            again = f"(run {data['attempt']}) " if data.get("attempt", 1) > 1 else ""  # first: the detail is cut
            row.status, row.started = "running", time.monotonic()
            row.detail = again + " ".join(data.get("command") or ())
            return
        self.notes.append(f"tests {event.detail}")
        if event.detail.startswith("skipped"):
            row.status, row.detail = "skipped", event.detail.removeprefix("skipped: ")
            return
        row.status = event.detail
        duration = data.get("duration_s")
        row.elapsed = duration if isinstance(duration, int | float) else time.monotonic() - row.started
        counts = GateCounts.of(data.get("tests"))
        exit_code = data.get("exit_code")
        row.detail = counts.describe() if counts else (f"exit {exit_code}" if exit_code is not None else "")

    def _render(self) -> Text:
        """The table as lines that fit the console: fixed columns, then what each agent is on (its tool
        call while it runs; its error, skip reason or test counts once over) after them when there is
        room, else on a line of its own under the agent. Tier and model only on a wide console."""
        width = max(self.console.width, 40)
        name_w = min(max([len(name) for name in self.rows] + [5]), MAX_NAME_W)
        wide = width >= WIDE
        columns = [("agent", name_w, "<"), ("state", 9, "<")]
        if wide:
            columns += [("tier", 8, "<"), ("model", 18, "<")]
        columns += [("time", 7, ">"), ("turns", 5, ">"), ("tokens in/out", 15, ">"), ("cost", 8, ">")]
        fixed = sum(w for _, w, _ in columns) + len(columns) - 1
        inline = width - fixed - 2 >= MIN_DETAIL_W
        lines = [Text(fit(self.title, width), style="bold")]
        header = " ".join(f"{title:{align}{w}}" for title, w, align in columns)
        lines.append(Text(header + ("  now / result" if inline else ""), style="dim"))
        running_cost: float | None = self.finished_cost
        now = time.monotonic()
        for name, row in self.rows.items():
            if row.status == "running" and running_cost is not None:
                running_cost = None if row.cost is None else running_cost + row.cost
            line = Text()
            for index, ((_, w, align), value) in enumerate(zip(columns, _cells(name, row, now, wide), strict=True)):
                style = self.STYLES.get(row.status, "") if index == 1 else ""
                line.append(("" if index == 0 else " ") + f"{fit(value, w):{align}{w}}", style=style)
            shown = row.doing if row.status == "running" and row.doing else row.detail
            if shown and inline:
                line.append("  " + fit(shown, width - fixed - 2), style="cyan" if shown is row.doing else "")
            line.rstrip()
            lines.append(line)
            if shown and not inline:
                lines.append(Text("  ↳ " + fit(shown, width - 4), style="cyan" if shown is row.doing else "dim"))
        total = f"${running_cost:.4f}" if running_cost is not None else "n/a (a model has no price)"
        caption = f"cost so far {total}" + (f"   {self.notes[-1]}" if self.notes else "")
        lines.append(Text(fit(caption, width)))
        return Text("\n").join(lines)


def _clock(seconds: float) -> str:
    """Elapsed time in at most 7 characters: `12.3s`, `12m05s`, `3h05m`."""
    if seconds < 100:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds) // 60}m{int(seconds) % 60:02d}s"
    return f"{int(seconds) // 3600}h{int(seconds) % 3600 // 60:02d}m"


def _cells(name: str, row: _Row, now: float, wide: bool) -> list[str]:
    """One live row's fixed columns, as text (the tier and model only on a wide console)."""
    elapsed = now - row.started if row.status == "running" else row.elapsed
    idle = row.status in ("waiting", "skipped", "cancelled")
    cost = "" if idle or not row.priced else (f"${row.cost:.4f}" if row.cost is not None else "n/a")
    return [
        name,
        row.status,
        *([row.tier, row.model] if wide else []),
        "" if idle else _clock(elapsed),
        str(row.turns or ""),
        f"{row.tokens_in:,}/{row.tokens_out:,}" if row.turns else "",
        cost,
    ]


class _PlainProgress(ProgressPrinter):
    def __enter__(self) -> _PlainProgress:
        return self

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        yield

    def __exit__(self, *exc: object) -> None:
        return None


def make_progress(console: Console) -> LiveProgress | _PlainProgress:
    """Live lines on a terminal; plain lines otherwise (CI, pipes, files)."""
    return LiveProgress(console) if console.is_terminal else _PlainProgress(console)
