"""The GitHub Action's logic (`action.yml` at the repository root runs `python -m autodev.apps.github_action`).

On an `issues` event whose label is the trigger label, or an `issue_comment` that starts with the
command (`/autodev`) from someone with write access (owner, member, collaborator), it runs
`autodev run --issue N --pr --json` in the checked-out repository and posts the outcome on the issue
with `gh issue comment` (marked, so a later run leaves it out of its request). Any other event is
not for autodev: a note, exit 0. The exit code is the run's (0 done and published, 1 the run failed,
2 it could not start or could not be published), so the workflow shows what happened.

Everything comes from the environment the runner sets (`GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`) and
the action's inputs (`AUTODEV_ACTION_*`), so the tests run it locally with a fake `gh` on PATH.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.core.redact import redact
from autodev.run.publish.issue_in import OUTCOME_MARKER

WRITE_ACCESS = ("OWNER", "MEMBER", "COLLABORATOR")
STDERR_KEPT = 40


@dataclass(frozen=True)
class Trigger:
    """An event autodev acts on: the issue, and what the comment asked for besides it."""

    issue: int
    instructions: str | None = None


@dataclass(frozen=True)
class Inputs:
    label: str = "autodev"
    command: str = "/autodev"
    draft: bool = False
    args: tuple[str, ...] = ()
    repo: Path = Path(".")

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Inputs:
        return cls(
            label=env.get("AUTODEV_ACTION_LABEL") or "autodev",
            command=env.get("AUTODEV_ACTION_COMMAND") or "/autodev",
            draft=env.get("AUTODEV_ACTION_DRAFT", "").strip().lower() in ("1", "true", "yes"),
            args=tuple(shlex.split(env.get("AUTODEV_ACTION_ARGS", ""))),
            repo=Path(env.get("AUTODEV_ACTION_REPO") or "."),
        )


def trigger(event_name: str, event: dict[str, Any], inputs: Inputs) -> Trigger | str:
    """The trigger in this event, or why there is none (a one-line note)."""
    issue = event.get("issue") or {}
    number = issue.get("number")
    if not isinstance(number, int):
        return f"a {event_name or 'unknown'} event without an issue: nothing to do"
    if issue.get("pull_request"):
        return f"#{number} is a pull request, not an issue: nothing to do"
    if event_name == "issues":
        label = (event.get("label") or {}).get("name")
        if event.get("action") != "labeled" or label != inputs.label:
            return f"issue #{number} was not labelled {inputs.label!r}: nothing to do"
        return Trigger(number)
    if event_name == "issue_comment":
        comment = event.get("comment") or {}
        body = str(comment.get("body") or "").strip()
        if event.get("action") != "created" or not _is_command(body, inputs.command):
            return f"the comment on #{number} does not start with {inputs.command}: nothing to do"
        if comment.get("author_association") not in WRITE_ACCESS:
            who = (comment.get("user") or {}).get("login", "someone")
            return f"{inputs.command} from {who}, who has no write access to the repository: ignored"
        rest = body[len(inputs.command) :].strip()
        return Trigger(number, rest or None)
    return f"a {event_name or 'unknown'} event: autodev acts on issues and issue comments only"


def _is_command(body: str, command: str) -> bool:
    return body == command or body.startswith((command + " ", command + "\n"))


@dataclass(frozen=True)
class Outcome:
    code: int
    state: dict[str, Any] | None
    stderr_tail: list[str]


def autodev_argv(trig: Trigger, inputs: Inputs) -> list[str]:
    """The command line; a comment's instructions come after `--`, so they are only ever the request's text
    (`/autodev --sandbox=off` asks for nothing but those words)."""
    argv = [sys.executable, "-m", "autodev.apps.cli.main", "run", "--issue", str(trig.issue), "--pr", "--json"]
    argv += [*(["--draft"] if inputs.draft else []), "--repo", str(inputs.repo), *inputs.args]
    return [*argv, "--", trig.instructions] if trig.instructions else argv


def run_autodev(trig: Trigger, inputs: Inputs) -> Outcome:
    """`autodev run --issue N --pr --json` as a child process; its progress streams into the job's log."""
    argv = autodev_argv(trig, inputs)
    tail: deque[str] = deque(maxlen=STDERR_KEPT)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stdout:
        child = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, text=True, errors="replace")
        assert child.stderr is not None
        for line in child.stderr:
            sys.stderr.write(line)
            tail.append(line.rstrip("\n"))
        code = child.wait()
        stdout.seek(0)
        printed = stdout.read()
    try:
        state = json.loads(printed) if printed.strip() else None
    except json.JSONDecodeError:
        state = None
    return Outcome(code, state if isinstance(state, dict) else None, list(tail))


def _error_lines(tail: list[str]) -> str:
    """The `error:` line autodev ended with, and its hint."""
    at = max((i for i, line in enumerate(tail) if line.startswith("error:")), default=None)
    if at is None:
        return "\n".join(tail[-5:]) or "(no message)"
    return "\n".join(line.strip() for line in tail[at : at + 2])


def comment_body(outcome: Outcome) -> str:
    state = outcome.state
    lines = [OUTCOME_MARKER]
    if state is None:
        lines += ["**autodev could not start.**", "", "```", _error_lines(outcome.stderr_tail), "```"]
        return redact("\n".join(lines) + "\n")
    run_id, status, branch = state.get("run_id"), state.get("status"), state.get("branch")
    published = state.get("published") or {}
    cost = state.get("cost_usd")
    facts = f"run `{run_id}`, branch `{branch}`" + (f", cost ${cost:.4f}" if isinstance(cost, int | float) else "")
    if outcome.code == 0 and published.get("pull_request"):
        lines.append(f"**autodev opened {published['pull_request']}** for this issue ({facts}).")
    elif outcome.code == 0:
        lines.append(f"**autodev finished** ({facts}), but it changed nothing: there is no pull request.")
    elif status == "done":
        lines += [f"**autodev finished, but could not publish the result** ({facts}):", ""]
        lines += ["```", _error_lines(outcome.stderr_tail), "```"]
    else:
        lines.append(f"**autodev's run {status}** ({facts}): {state.get('error') or 'see the job log'}")
        lines.append(f"The branch keeps the work so far; `autodev resume {run_id}` goes on from there.")
    return redact("\n".join(lines) + "\n")


def post_comment(issue: int, body: str, repo: Path) -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".md", encoding="utf-8", delete=False) as handle:
        handle.write(body)
    try:
        done = subprocess.run(
            ["gh", "issue", "comment", str(issue), "--body-file", handle.name], cwd=repo, check=False, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"autodev action: could not post the outcome: {exc}", file=sys.stderr)
        return 1
    finally:
        os.unlink(handle.name)
    return done.returncode


def main(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ) if env is None else env
    inputs = Inputs.from_env(env)
    name, path = env.get("GITHUB_EVENT_NAME", ""), env.get("GITHUB_EVENT_PATH", "")
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, json.JSONDecodeError) as exc:
        print(f"autodev action: cannot read the event ({path}): {exc}", file=sys.stderr)
        return 2
    found = trigger(name, event if isinstance(event, dict) else {}, inputs)
    if isinstance(found, str):
        print(f"autodev action: {found}")
        return 0
    outcome = run_autodev(found, inputs)
    posted = post_comment(found.issue, comment_body(outcome), inputs.repo)
    return outcome.code or (1 if posted != 0 else 0)


if __name__ == "__main__":
    sys.exit(main())
