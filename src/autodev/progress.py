"""Human-readable progress lines for a run, printed to stderr so `--json` output stays clean."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape as esc

from autodev.pipeline.events import RunEvent

_MARKS = {"done": "[green]✓[/]", "failed": "[red]✗[/]"}


class ProgressPrinter:
    """One line per agent transition; works the same on a terminal and in a pipe."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, event: RunEvent) -> None:
        agent = f"{event.agent or '':<17}"
        data = event.data
        if event.kind == "run_started":
            self.console.print(f"[bold]run {event.detail}[/] in {esc(str(data.get('worktree')))}")
        elif event.kind == "agent_started":
            again = f" (run {data['run']})" if data.get("run", 1) > 1 else ""
            self.console.print(f"  [cyan]▶[/] {agent} {data.get('tier', ''):<8} {esc(event.detail)}{again}")
        elif event.kind == "agent_finished":
            mark = _MARKS.get(event.detail, "?")
            figures = (
                f"{data['duration_s']:6.2f}s  {data['turns']} turns  "
                f"{data['input_tokens']:,} in / {data['output_tokens']:,} out"
            )
            cost = data.get("cost_usd")
            figures += f"  ${cost:.4f}" if cost is not None else "  $ n/a"
            error = f"  [red]{esc(str(data['error']))}[/]" if data.get("error") else ""
            self.console.print(f"  {mark} {agent} {figures}{error}", highlight=False)
        elif event.kind == "agent_skipped":
            self.console.print(f"  [dim]- {agent} skipped: {esc(event.detail)}[/]")
        elif event.kind == "agent_blocked":
            self.console.print(f"  [yellow]- {agent} {esc(event.detail)}[/]")
        elif event.kind == "gate":
            colour = "green" if event.detail == "passed" else "yellow"
            self.console.print(f"  [{colour}]■ tests {esc(event.detail)}[/]")
        elif event.kind == "note":
            self.console.print(f"  [yellow]↻ {agent} {esc(event.detail)}[/]")
