"""Builders for scripted-model replies and a small calculator repository, shared by the end-to-end tests.

A script is the dict `autodev.models.fakes.scripted.ScriptedProvider` accepts: `{"version": 1, "agents":
{agent: [reply, ...]}}`. Each agent invocation consumes replies until one without tool calls, so a
rerun agent (gate retry, remediation cycle) needs one more final reply per rerun; the defaults below
carry spares for the agents that can be rerun.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autodev.config.trust import approve, repo_trust
from autodev.core.errors import UserError

Reply = dict[str, Any]

FEATURE_AGENTS = (
    "researcher-local",
    "researcher-web",
    "planner",
    "test-master",
    "implementer",
    "reviewer",
    "security-auditor",
    "doc-master",
)
VALIDATION_AGENTS = ("reviewer", "security-auditor", "doc-master")

TEST_COMMAND = "python -m unittest discover -s tests -t . -q"
REQUEST = "Add a mul(a, b) function to calc that multiplies two numbers"

CALC_SOURCE = '"""A tiny calculator."""\n\n\ndef add(a, b):\n    return a + b\n'
CALC_TESTS = (
    "import unittest\n"
    "\n"
    "from calc import add\n"
    "\n"
    "\n"
    "class AddTests(unittest.TestCase):\n"
    "    def test_add(self):\n"
    "        self.assertEqual(add(2, 3), 5)\n"
)
CALC_FILES: dict[str, str] = {
    "README.md": "# calc\n\nA tiny calculator.\n",
    "calc/__init__.py": CALC_SOURCE,
    "tests/__init__.py": "",
    "tests/test_calc.py": CALC_TESTS,
    ".autodev/config.toml": f'test_command = "{TEST_COMMAND}"\n',
}

MUL_TEST = (
    "\n\nclass MulTests(unittest.TestCase):\n"
    "    def test_mul(self):\n"
    "        from calc import mul\n"
    "\n"
    "        self.assertEqual(mul(2, 3), 6)\n"
)
MUL_IMPL = "\n\ndef mul(a, b):\n    return a * b\n"
WRONG_MUL_IMPL = "\n\ndef mul(a, b):\n    return a + b\n"

APPROVE = "Checked: calc/__init__.py\nThe change does what the request asks and is tested.\n\nVERDICT: APPROVE"
AUDIT_APPROVE = "Audited: calc/__init__.py\nNo security concerns.\n\nVERDICT: APPROVE"

# The sections each built-in agent's file declares (`handoff_sections`): a final reply without them gets
# one corrective turn, which would take the next scripted reply.
RESEARCH = "## Relevant code\n- `calc/__init__.py` holds `add(a, b)`."
WEB_NOTES = "## Findings\n- Nothing external is needed."
PLAN = "## Goal\nAdd `mul`.\n## Changes\n1. Add `mul` to calc.\n## Tests to write\n- Test `mul` in tests/test_calc.py."
TESTS_WRITTEN = "## Tests\n- Added MulTests.test_mul.\n## Test run\n- 1 new test failing as expected."
NO_DOCS = "## Docs updated\n- none: no documentation change needed."


def implemented(changes: str = "- Added `mul(a, b)` to calc/__init__.py.", extra: str = "") -> str:
    """An implementer handoff with its declared sections; `extra` adds e.g. an `## Addressed` section."""
    text = f"## Changes\n{changes}\n## Tests\n- RunTests passed.\n## Docs impact\n- none"
    return f"{text}\n{extra}" if extra else text


ADDRESSED = implemented("- none", "## Addressed\nNothing further to change.")


def final(text: str, delay: float = 0.0) -> Reply:
    """A reply without tool calls: it ends the agent's turn and its text is the handoff."""
    reply: Reply = {"text": text}
    if delay:
        reply["delay"] = delay
    return reply


def call(name: str, **input: Any) -> dict[str, Any]:
    """One tool call inside a reply."""
    return {"name": name, "input": input}


def tools(*calls: dict[str, Any], text: str = "", delay: float = 0.0) -> Reply:
    """A reply that makes tool calls; the agent continues with its next reply.

    An Edit is preceded by a Read of its file, as a well-behaved agent does (Edit refuses a file the
    agent has not Read); a test of that refusal writes its reply out without this helper.
    """
    reply: Reply = {"text": text, "tool_calls": read_before_edits(calls)}
    if delay:
        reply["delay"] = delay
    return reply


def read_before_edits(calls: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`calls` with a Read of each edited file before its first Edit."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for one in calls:
        path = one["input"].get("file_path")
        if one["name"] == "Read":
            seen.add(path)
        elif one["name"] == "Edit" and path not in seen:
            out.append(call("Read", file_path=path))
            seen.add(path)
        out.append(one)
    return out


def error(message: str, delay: float = 0.0) -> Reply:
    """A reply that makes the model request fail with `message`."""
    reply: Reply = {"error": message}
    if delay:
        reply["delay"] = delay
    return reply


def append_to(path: str, anchor: str, added: str) -> dict[str, Any]:
    """An Edit call that appends `added` after `anchor` (which must occur once in the file)."""
    return call("Edit", file_path=path, old_string=anchor, new_string=anchor + added)


def edit_mul_test() -> dict[str, Any]:
    return append_to("tests/test_calc.py", "self.assertEqual(add(2, 3), 5)\n", MUL_TEST)


def edit_mul(impl: str = MUL_IMPL) -> dict[str, Any]:
    return append_to("calc/__init__.py", "    return a + b\n", impl)


def fix_mul() -> dict[str, Any]:
    """Turns WRONG_MUL_IMPL into MUL_IMPL."""
    return call("Edit", file_path="calc/__init__.py", old_string=WRONG_MUL_IMPL, new_string=MUL_IMPL)


def verdict(decision: str, findings: str = "", delay: float = 0.0, label: str = "Checked") -> Reply:
    """A verdict agent's final reply; `label` is its declared section (the security-auditor's is "Audited")."""
    body = f"{label}: the change.\n\nVERDICT: {decision}"
    return final(body + (f"\n{findings}" if findings else ""), delay)


def default_replies(delay: float = 0.0) -> dict[str, list[Reply]]:
    """Simple replies for the feature pipeline: test-master adds a test, the implementer adds `mul`."""
    d = delay
    return {
        "researcher-local": [final(RESEARCH, d)],
        "researcher-web": [final(WEB_NOTES, d)],
        "planner": [final(PLAN, d)],
        "test-master": [tools(edit_mul_test(), delay=d), final(TESTS_WRITTEN, d)],
        "implementer": [
            tools(edit_mul(), text="Adding mul.", delay=d),
            final(implemented(), d),
            final(ADDRESSED, d),
            final(ADDRESSED, d),
        ],
        "reviewer": [final(APPROVE, d)] * 3,
        "security-auditor": [final(AUDIT_APPROVE, d)] * 3,
        "doc-master": [final(NO_DOCS, d)] * 3,
    }


def feature_script(
    overrides: Mapping[str, Sequence[Reply]] | None = None,
    *,
    delay: float = 0.0,
    delays: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """A script giving all 8 feature agents simple replies.

    `overrides` replaces an agent's whole reply queue; `delay` applies to every default reply and
    `delays` to the default replies of the named agents.
    """
    agents = default_replies(delay)
    for name, seconds in (delays or {}).items():
        agents[name] = [{**reply, "delay": seconds} for reply in agents[name]]
    for name, replies in (overrides or {}).items():
        agents[name] = list(replies)
    return {"version": 1, "web_search": True, "agents": agents}


def issue_script() -> dict[str, Any]:
    draft = (
        "# Add a mul function\n\n"
        "## Problem\ncalc can add but not multiply.\n\n"
        "## Proposal\nAdd `mul(a, b)` next to `add`.\n\n"
        "## Acceptance criteria\n- `mul(2, 3) == 6`, covered by a unit test.\n"
    )
    return {
        "version": 1,
        "agents": {
            "researcher-local": [
                tools(call("Read", file_path="calc/__init__.py")),
                final("## Relevant code\n- `add` lives in calc/__init__.py."),
            ],
            "issue-creator": [final(draft)],
        },
    }


# ---------------------------------------------------------------- repository helpers
def trust_repo(repo: Path) -> None:
    """Approve `repo`'s widening settings as `autodev trust --yes` would: the test wrote them, so it trusts them.

    Call it again after changing `.autodev/config.toml` or an agent file: an approval covers one content.
    """
    approve(repo_trust(repo))


def trust_if_valid(repo: Path) -> None:
    """`trust_repo`, unless the config is broken on purpose: the test then meets the error where it looks for it."""
    with contextlib.suppress(UserError):
        trust_repo(repo)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def settle(repo: Path) -> None:
    """Backdate the checkout's files and let git refresh its index once, so that a later `git status`
    (ours or a run's) finds no racily-clean entry to rewrite the index for; then `.git/index` can be
    compared byte for byte."""
    past = time.time() - 30
    for path in repo.rglob("*"):
        if path.is_file() and not path.is_symlink() and ".git" not in path.relative_to(repo).parts:
            with contextlib.suppress(OSError):  # a read-only file system: its files were settled before
                os.utime(path, (past, past))
    git(repo, "update-index", "-q", "--refresh")
    git(repo, "status", "--porcelain")


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root`, `.git/` included, as bytes (symlinks as their target)."""
    if not root.exists():
        return {}
    snapshot: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            snapshot[rel] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            snapshot[rel] = path.read_bytes()
        else:
            snapshot[rel + "/"] = b""
    return snapshot
