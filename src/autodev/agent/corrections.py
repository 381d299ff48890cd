"""What the runtime says when an agent's final reply cannot be its handoff — once per kind, in the same turn.

Real models (Haiku-class, 7–30B open models behind Ollama or vLLM) end their turn in ways a strict
pipeline would count as failures: a tool call written as text because the chat template did not
turn it into one, a reviewer's reply with no verdict line or with both, a handoff without the
sections the next agent reads. Each gets one corrective turn in the same conversation, which costs
one model call; a second miss is taken as it is and the pipeline judges it (docs/agents.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from autodev.agent.specs import AgentSpec
from autodev.agent.verdicts import ASK_FOR_VERDICT, has_verdict

Kind = Literal["tool_call_text", "verdict", "sections"]

_TOOL_CALL_TAG = re.compile(r"<\|?(?:tool_call|function_call|tool_use)\|?>|\[TOOL_CALLS\]", re.IGNORECASE)
_FENCED_JSON = re.compile(r"^```(?:json)?\s*(\{.*\})\s*```$", re.DOTALL)
_HEADING = re.compile(r"^#{1,4}\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Correction:
    kind: Kind
    note: str  # the user message that asks for the fix
    tools: bool  # whether the corrective turn offers the agent's tools
    append: bool  # the corrected reply is added to the first (a verdict line) instead of replacing it


def tool_call_as_text(text: str, tool_names: set[str]) -> str | None:
    """The tool name when `text` is a tool call written as text instead of made through the interface."""
    stripped = text.strip()
    if _TOOL_CALL_TAG.search(stripped):
        named = re.search(r'"name"\s*:\s*"([^"]+)"', stripped)
        return named.group(1) if named else "a tool"
    fenced = _FENCED_JSON.match(stripped)
    candidate = fenced.group(1) if fenced else stripped
    if not (candidate.startswith("{") and candidate.endswith("}")):
        return None
    try:
        data = json.loads(candidate)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    name = data.get("name") or data.get("tool") or data.get("function")
    if isinstance(name, dict):
        name = name.get("name")
    has_arguments = any(key in data for key in ("arguments", "parameters", "input", "args"))
    if isinstance(name, str) and (has_arguments or name in tool_names):
        return name
    return None


def missing_sections(text: str, required: tuple[str, ...]) -> tuple[str, ...]:
    """The sections of `required` that `text` lacks: a `## Section` heading or a line starting with the
    section's name counts (case and decoration ignored)."""
    headings = {_heading_key(match) for match in _HEADING.findall(text)}
    return tuple(name for name in required if _heading_key(name) not in headings and not _labelled(text, name))


def _labelled(text: str, name: str) -> bool:
    """A section written as a line that starts with its name ("Checked: calc.py", "**Changes:**"), as
    models often write them."""
    return re.search(rf"^[*_]{{0,2}}{re.escape(name)}\b", text, re.IGNORECASE | re.MULTILINE) is not None


def _heading_key(heading: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", heading.lower()).strip()


def correction_for(spec: AgentSpec, text: str, tool_names: set[str], used: set[Kind]) -> Correction | None:
    """The one correction `text` needs first, unless that kind was already asked for in this run of the agent."""
    if tool_names and "tool_call_text" not in used and (name := tool_call_as_text(text, tool_names)):
        note = (
            f"Your reply is a tool call written as text ({name}), so nothing was run. Call tools through the "
            "tool-calling interface, not in your message text; when you are done, reply with your handoff."
        )
        return Correction("tool_call_text", note, tools=True, append=False)
    if spec.verdict and "verdict" not in used and not has_verdict(text):
        return Correction("verdict", ASK_FOR_VERDICT, tools=False, append=True)
    if spec.verdict and not has_verdict(text):
        return None  # still no verdict after its re-ask: judged on that (REQUEST_CHANGES), not asked again
    if spec.handoff_sections and "sections" not in used and (missing := missing_sections(text, spec.handoff_sections)):
        listed = ", ".join(f"`## {name}`" for name in missing)
        note = (
            f"Your handoff lacks the section(s) {listed} that your instructions require and the next agent "
            "reads. Reply with your complete handoff again, with every required section"
            + (", and your verdict line last." if spec.verdict else ".")
        )
        return Correction("sections", note, tools=False, append=False)
    return None
