"""The result's commit message: a title, what was done and why, and trailers naming autodev and its models.

It is built from the run's handoffs (the implementer's summary, the planner's plan), cut to a size a
`git log` reader takes in, and redacted whole: a commit message leaves the machine with a pushed branch.
"""

from __future__ import annotations

import re

from autodev import __version__
from autodev.core.redact import redact
from autodev.run.state import RunState

TITLE_CHARS = 72
SECTION_LINES = 15
SECTION_CHARS = 1200
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


def condensed(text: str, *, lines: int = SECTION_LINES, chars: int = SECTION_CHARS) -> str:
    """A handoff as plain commit text: headings become lines of their own words (a `#` line may be cut
    as a comment by `commit.cleanup`), blank runs collapse, and at most `lines` lines / `chars` characters."""
    kept: list[str] = []
    for raw in text.strip().splitlines():
        heading = _HEADING.match(raw)
        line = (heading.group(1) + ":") if heading else raw.rstrip()
        if not line.strip() and (not kept or not kept[-1].strip()):
            continue
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    cut = len(kept) > lines
    body = "\n".join(kept[:lines])
    if len(body) > chars:
        body, cut = body[:chars], True
        if "\n" in body:  # end on a whole line
            body = body.rsplit("\n", 1)[0]
    return body + ("\n[...]" if cut else "")


def title_of(state: RunState) -> str:
    """The request's first line (an issue's title), redacted before it is cut."""
    first = (redact(state.request).strip().splitlines() or [""])[0].strip()
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 3].rstrip() + "..."


def models_used(state: RunState) -> list[str]:
    """The models of the agents that ran, each once, in pipeline order."""
    seen: list[str] = []
    for agent in state.agents.values():
        if agent.runs and agent.model and agent.model not in seen:
            seen.append(agent.model)
    return seen


def handoff(state: RunState, name: str) -> str | None:
    agent = state.agents.get(name)
    if agent is None or agent.status != "done" or not (agent.handoff or "").strip():
        return None
    return agent.handoff


def result_message(state: RunState) -> str:
    """`autodev: <title>`, the summary and the plan's decisions, then the trailers (redacted, whole)."""
    parts = [f"autodev: {title_of(state)}"]
    summary = handoff(state, "implementer")
    if summary:
        parts.append("Summary (implementer):\n" + condensed(summary))
    plan = handoff(state, "planner")
    if plan:
        parts.append("Decisions (planner):\n" + condensed(plan, lines=12, chars=900))
    trailers = [f"Autodev-Run: {state.run_id}"]
    if state.issue is not None and state.issue.number is not None:
        trailers.append(f"Refs: #{state.issue.number}")
    models = models_used(state)
    trailers.append(f"Generated-by: autodev {__version__}" + (f" ({', '.join(models)})" if models else ""))
    parts.append("\n".join(trailers))
    return redact("\n\n".join(parts))
