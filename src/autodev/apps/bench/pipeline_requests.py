"""The four requests `autodev bench pipeline` runs on the demo project, with the replies they get.

The feature uses the demo's own script; the docs, typo and config requests are fast paths, with small
scripts written here that every agent answers in one reply, so their saving over the feature is what
the skipped agents (and the skipped gate) buy, not shorter replies. "docs plan" is a request the
classifier takes as a feature (it names no documentation place) whose plan names only README.md: the
run narrows after the planner (`selection.after_plan`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.apps.demo import DEMO_IDENTITY, DEMO_REQUEST, demo_dir
from autodev.core import gitops
from autodev.models.fakes.scripted import Script


def _reply(text: str, output_tokens: int = 120) -> dict[str, Any]:
    return {"text": text, "usage": {"input_tokens": 3000, "output_tokens": output_tokens}}


def _edit(text: str, path: str, old: str, new: str) -> dict[str, Any]:
    read = {"name": "Read", "input": {"file_path": path}}  # Edit refuses a file the agent has not Read
    call = {"name": "Edit", "input": {"file_path": path, "old_string": old, "new_string": new}}
    return {"text": text, "tool_calls": [read, call], "usage": {"input_tokens": 3000, "output_tokens": 80}}


APPROVE = (
    "Checked: the diff.\nThe change does what was asked and nothing else.\nVERDICT: APPROVE\nNo blocking findings."
)
TYPO = ("whitespace-separated", "whitespace-seperated")
REWORD_INTRODUCTION = _edit(
    "Rewording the introduction.",
    "README.md",
    "using only the standard library.",
    "needing nothing beyond the standard library.",
)


def _fast_script(implementer_call: dict[str, Any], what: str) -> Script:
    return Script.model_validate(
        {
            "web_search": True,
            "agents": {
                "researcher-local": [_reply(f"## Relevant code\n{what} lives at the project root.")],
                "researcher-web": [_reply("## Findings\nNothing external is needed.")],
                "planner": [
                    _reply(
                        f"## Goal\n{what}.\n## Changes\n1. {what}.\n## Tests to write\n- none: only that file changes."
                    )
                ],
                "test-master": [_reply("## Tests\nNo test change is needed.\n## Test run\n- not needed")],
                "implementer": [
                    implementer_call,
                    _reply(f"## Changes\n- {what}.\n## Tests\n- unchanged\n## Docs impact\n- none"),
                ],
                "reviewer": [_reply(APPROVE)],
                "security-auditor": [_reply(APPROVE.replace("Checked:", "Audited:"))],
                "doc-master": [_reply("## Docs updated\nNothing else to document.")],
            },
        }
    )


@dataclass(frozen=True)
class Case:
    label: str
    request: str
    script: Callable[[], Script]
    setup: Callable[[Path], None] = lambda repo: None


def _feature_script() -> Script:
    return Script.load(demo_dir() / "script.yaml")


def _add_typo(repo: Path) -> None:
    readme = repo / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace(*TYPO), encoding="utf-8")
    gitops.git([*DEMO_IDENTITY, "commit", "--quiet", "-am", "README: a typo"], repo)


CASES: dict[str, Case] = {
    "feature": Case("feature", DEMO_REQUEST, _feature_script),
    "docs": Case(
        "docs",
        "Reword the introduction of README.md to say that textkit needs nothing beyond the standard library",
        lambda: _fast_script(REWORD_INTRODUCTION, "README.md: the introduction is reworded"),
    ),
    # phrased as a feature (no documentation place named): the plan's files narrow it (selection.after_plan)
    "docs plan": Case(
        "docs plan",
        "Say in the introduction that textkit needs nothing beyond the standard library",
        lambda: _fast_script(REWORD_INTRODUCTION, "README.md: the introduction says so"),
    ),
    "typo": Case(
        "typo",
        "Fix the typo 'seperated' in README.md",
        lambda: _fast_script(
            _edit("Fixing the spelling.", "README.md", TYPO[1], TYPO[0]),
            "README.md: 'seperated' becomes 'separated'",
        ),
        _add_typo,
    ),
    "config": Case(
        "config",
        "Add an .editorconfig that sets 4-space indentation for Python files",
        lambda: _fast_script(
            {
                "text": "Writing the .editorconfig.",
                "tool_calls": [
                    {
                        "name": "Write",
                        "input": {
                            "file_path": ".editorconfig",
                            "content": "root = true\n\n[*.py]\nindent_style = space\nindent_size = 4\n",
                        },
                    }
                ],
                "usage": {"input_tokens": 3000, "output_tokens": 60},
            },
            ".editorconfig sets 4-space indentation for Python files",
        ),
    ),
}
