"""An issue as the request (`autodev run --issue N|URL|FILE.md`).

A GitHub issue is read through `gh issue view --json title,body,labels,comments,number,url`; a local
markdown file gives its first `# heading` as the title and the rest as the body (the draft that
`autodev issue` writes is such a file). Either becomes one request text — title, body, labels,
comments — and an `IssueRef` that state.json keeps (the pull request says `Closes #N` from it).

The text is what someone typed into an issue, possibly anyone: it is a request like any other (the
jail and the tools' limits apply whatever it asks), and the Action only starts a run for a label or
a comment from someone with write access (docs/github-action.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pydantic

from autodev.core.errors import UserError
from autodev.run.publish.gh import INSTALL_HINT, GhMissing, run_gh
from autodev.run.sections import IssueRef

ISSUE_FIELDS = "title,body,labels,comments,number,url"
OUTCOME_MARKER = "<!-- autodev-outcome -->"  # the Action's own comments: not part of a later run's request
_URL = re.compile(r"^https?://\S+/issues/(\d+)/?(?:[?#]\S*)?$")
_NUMBER = re.compile(r"^#?(\d+)$")
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$")


class _Author(pydantic.BaseModel):
    login: str = "ghost"


class _Comment(pydantic.BaseModel):
    author: _Author | None = None
    authorAssociation: str | None = None
    body: str = ""
    isMinimized: bool = False


class _Label(pydantic.BaseModel):
    name: str


class _GhIssue(pydantic.BaseModel):
    """What `gh issue view --json title,body,labels,comments,number,url` prints."""

    number: int
    title: str
    body: str = ""
    url: str = ""
    labels: list[_Label] = []
    comments: list[_Comment] = []


@dataclass(frozen=True)
class IssueInput:
    """The request an issue makes, and where it came from."""

    request: str
    ref: IssueRef


def read_issue(reference: str, repo: Path, extra: str | None = None) -> IssueInput:
    """The issue `reference` names (a number, `#N`, an issue URL, or a markdown file) as a request.

    `extra`: the request text given beside `--issue`, added as further instructions. Any problem is a
    `UserError` (exit 2) before anything is written.
    """
    text = reference.strip()
    if _NUMBER.match(text) or _URL.match(text):
        issue = _from_github(text.lstrip("#"), repo)
    else:
        issue = _from_file(Path(text).expanduser())
    if extra and extra.strip():
        request = f"{issue.request}\n\nFurther instructions:\n{extra.strip()}"
        return IssueInput(request, issue.ref)
    return issue


def _from_github(reference: str, repo: Path) -> IssueInput:
    try:
        result = run_gh(["issue", "view", reference, "--json", ISSUE_FIELDS], repo)
    except GhMissing:
        raise UserError(
            f"--issue {reference} needs the GitHub CLI (gh), which is not installed",
            hint=f"{INSTALL_HINT}; or save the issue as a markdown file and pass --issue FILE.md",
        ) from None
    if not result.ok:
        raise UserError(
            f"gh could not read issue {reference}: {result.problem()}",
            hint="check the number (gh issue list) and the login (gh auth status)",
        )
    try:
        issue = _GhIssue.model_validate_json(result.stdout)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        raise UserError(
            f"gh printed no issue for {reference}: {first['msg']} at {'.'.join(map(str, first['loc'])) or 'top'}",
            hint="update gh (gh --version), or pass the issue as a markdown file with --issue FILE.md",
        ) from None
    if not issue.title.strip():
        raise UserError(f"issue #{issue.number} has no title", hint="give the issue a title and run again")
    ref = IssueRef(title=issue.title.strip(), number=issue.number, url=issue.url or None)
    return IssueInput(_request_text(ref, issue.body, [label.name for label in issue.labels], issue.comments), ref)


def _from_file(path: Path) -> IssueInput:
    full = path if path.is_absolute() else Path.cwd() / path
    if not full.is_file():
        raise UserError(
            f"--issue {path}: no such file (and not an issue number or URL)",
            hint="pass an issue number (--issue 7), its URL, or a markdown file whose first '# line' is the title",
        )
    try:
        content = full.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}", hint="the issue file must be UTF-8 text") from None
    lines = content.splitlines()
    at = next((i for i, line in enumerate(lines) if _HEADING.match(line)), None)
    if at is None:  # no `# heading`: the first line that says something is the title
        at = next((i for i, line in enumerate(lines) if line.strip()), None)
        if at is None:
            raise UserError(f"{path} is empty", hint="write the issue: a '# title' line, then what you want")
        title = lines[at].strip()
    else:
        match = _HEADING.match(lines[at])
        title = match.group(1) if match else lines[at]
    body = "\n".join(lines[at + 1 :])
    ref = IssueRef(title=title.strip(), file=str(full.resolve()))
    return IssueInput(_request_text(ref, body, [], []), ref)


def _request_text(ref: IssueRef, body: str, labels: list[str], comments: list[_Comment]) -> str:
    """Title first (the commit's and the pull request's title come from the request's first line)."""
    parts = [ref.title]
    if body.strip():
        parts.append(body.strip())
    if labels:
        parts.append("Labels: " + ", ".join(labels))
    said = [c for c in comments if c.body.strip() and not c.isMinimized and OUTCOME_MARKER not in c.body]
    if said:
        shown = []
        for comment in said:
            who = f"@{comment.author.login if comment.author else 'ghost'}"
            role = comment.authorAssociation
            if role and role != "NONE":
                who += f" ({role.lower()})"
            shown.append(f"{who} wrote:\n{comment.body.strip()}")
        parts.append("Comments on the issue:\n\n" + "\n\n".join(shown))
    if ref.number is not None:
        parts.append(f"(GitHub issue #{ref.number}{': ' + ref.url if ref.url else ''})")
    return "\n\n".join(parts)
