"""Selection after the plan: a feature request whose plan changes only documentation, configuration or
packaging files skips, from there on, what that class skips.

A request's words rarely say where its change lands: no classifier of the words reaches half of the
requests that change no code (docs/selection.md, `autodev bench selection-baseline`), so most of them
take the full pipeline. The planner's `## Changes` section says where, before the test writer and the
implementer start: "1. README.md — add a section on ...". When every file it names is documentation
(or configuration, or packaging) and it asks for no tests, the agents that class skips and that have
not started yet are skipped (the test writer, and for docs the security audit).

Safe by construction, as the request's own fast paths are: the diff re-check after the implementer
compares the diff with the *planned* class, and a change that reaches code brings back the test
writer, the validation agents and the test gate (`policy.recheck`). A security-sensitive request
narrows too, but keeps its security audit (the request's own fast paths refuse it because they skip
the audit; here nothing skips it). Never narrowed: `--full` and `--only` runs, a request already on a
fast path, a plan that asks for tests, a plan with an item that names no file or names code or tests.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from autodev.agent.prompts import section_of
from autodev.config.selection import AUDITORS
from autodev.run.selection.decide import Selection
from autodev.run.selection.paths import PathKind
from autodev.run.selection.request import BARE_FILES, FILE_TOKEN, SECURITY_SENSITIVE, PathLookup, describe

ITEM = re.compile(r"^\s*(?:\d+[.)]|[*+-])\s+(.*)$")
NONE = re.compile(r"^\W*(?:none|n/?a|no tests?(?: needed| to write)?|nothing)\b", re.IGNORECASE)
# what each class may touch; the planned class is the highest the plan's files reach
CLASS_OF_KIND: dict[PathKind, str] = {"docs": "docs", "config": "config", "deps": "deps"}
ORDER = ("docs", "config", "deps")
NOT_NEEDED = "not needed after the plan"  # how the reason of an agent skipped here begins


@dataclass(frozen=True)
class PlannedClass:
    change_type: str  # docs | config | deps
    reasons: tuple[str, ...]
    skips: dict[str, str]  # agent -> why it is skipped now


def _section(handoff: str, heading: str) -> str | None:
    """The body of the handoff's `## heading` section (`prompts.section_of`, its heading line dropped)."""
    found = section_of(handoff, heading)
    return None if found is None else found.partition("\n")[2].strip()


def _items(body: str) -> list[str]:
    """The section's list items (a line that starts none is part of the item before it)."""
    items: list[str] = []
    for line in body.splitlines():
        if match := ITEM.match(line):
            items.append(match.group(1))
        elif items and line.strip():
            items[-1] += " " + line.strip()
    return items


def _paths(item: str) -> list[str]:
    head = re.split(r"\s+[—–-]\s+|:\s", item, maxsplit=1)[0]  # "path — what": the path is before the dash
    found = [m.group(1).removeprefix("./") for m in FILE_TOKEN.finditer(head)]
    return found + [m.group(1) for m in BARE_FILES.finditer(head) if not any(m.group(1) in p for p in found)]


def asks_for_tests(handoff: str) -> bool:
    """Whether the plan's `## Tests to write` asks for any test (a missing section counts as asking)."""
    body = _section(handoff, "Tests to write")
    if body is None:
        return True
    items = _items(body)
    if not items:
        return bool(body) and not NONE.match(body)  # a sentence instead of a list: tests unless it says none
    return any(not NONE.match(item) for item in items)


def narrowable(selection: Selection) -> bool:
    """Whether the plan may narrow this run (the request's class, the user's flags and the pipeline allow it)."""
    return selection.mode == "auto" and selection.change_type == "feature" and selection.by_class


def security_sensitive(selection: Selection) -> bool:
    return any(reason.startswith(SECURITY_SENSITIVE) for reason in selection.reasons)


OUTLOOK = (
    "after the planner: a plan that changes only documentation, configuration or packaging files and asks "
    "for no tests takes that class's path from there on (the diff re-check brings everything back if code changes)"
)


def outlook(selection: Selection) -> str | None:
    """For `autodev plan`: what the plan may do to this run (None: nothing)."""
    if not narrowable(selection):
        return None
    audit = "; the security audit stays (a security-sensitive request)" if security_sensitive(selection) else ""
    return OUTLOOK + audit


def narrow_after_plan(
    selection: Selection,
    handoff: str,
    lookup: PathLookup,
    pending: Collection[str],
    protected: Collection[str] = (),
) -> PlannedClass | None:
    """The class the plan's files show, and the `pending` agents it skips (never one of `protected`: the
    agents that write the change); None when nothing narrows."""
    if not narrowable(selection):
        return None
    changes = _section(handoff, "Changes")
    if not changes or asks_for_tests(handoff):
        return None
    files: list[str] = []
    kinds: list[str] = []
    for item in _items(changes):
        paths = _paths(item)
        if not paths:
            return None  # an item that names no file: it may be anywhere
        for path in paths:
            facts = lookup(path)
            planned = CLASS_OF_KIND.get(facts.kind) if facts is not None else None
            if planned is None:  # code, tests, or a path outside the repository
                return None
            files.append(describe(path, facts))
            kinds.append(planned)
    if not files:
        return None
    change_type = max(kinds, key=ORDER.index)
    kept = set(protected) | (set(AUDITORS) if security_sensitive(selection) else set())
    skips = {
        agent: (
            f"{NOT_NEEDED}: it changes only {change_type} files (the diff re-check brings it back if the change "
            "reaches code)"
        )
        for agent in selection.policy.skips_for(change_type)
        if agent in pending and agent not in selection.skips and agent not in kept
    }
    if not skips:
        return None
    audit = "; a security-sensitive request keeps its security audit" if security_sensitive(selection) else ""
    reasons = (
        f"plan: every file the plan changes is {change_type} ({', '.join(files[:4])}) and it asks for no "
        f"tests: the {change_type} path from here on ({', '.join(skips)} skipped{audit})",
    )
    return PlannedClass(change_type, reasons, skips)
