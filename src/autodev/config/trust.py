"""Trust: what a repository may widen only once the user has approved it, as direnv and mise do.

A cloned repository is someone else's code. Its settings may narrow what autodev does, or tune it,
freely; but the ones that widen what executes or what agents may do take effect only after
`autodev trust` recorded the user's approval of their exact content:

- the keys `test_command`, `bash_allow`, `write_scopes` and `sandbox` in `.autodev/config.toml`
  (or `pyproject.toml [tool.autodev]`), and `base_url`, which decides where the user's API key is sent;
- an agent file in `.claude/agents/` or `.autodev/agents/` that offers a tool the agent it replaces
  does not (a new agent: any tool beyond Read, Grep, Glob and Skill), loosens its `Bash(...)` entries,
  or lets a writing agent write beyond that agent's `write_scope`;
- a skill in `.claude/skills/` or `.autodev/skills/` whose folder carries files besides SKILL.md
  (scripts the skill tells the model to run).

One digest covers all of them (the values as read, the files' bytes), so any change to any of them
makes the repository untrusted again. Until approved they fall back to the layer below (the user's
config, then the built-in defaults; the built-in or user-level agent; no skill) and every run, plan
and `config show` says, item by item, what was ignored. User-level config and agents are the user's
own and always trusted. Approvals live in `autodev.config.trust_store`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from autodev.agent.frontmatter import FrontmatterError
from autodev.agent.skills import SKILL_FILE, skill_dirs
from autodev.agent.specs import AgentSpec, agent_dirs, load_agents, parse_agent_text
from autodev.config.sources import Sourced, repo_layer
from autodev.config.trust_store import Approval, read_approvals, record_approval, repo_key
from autodev.core.errors import UserError
from autodev.tools import names as tool_names

# `base_url` is where the user's API key goes: a repository must not point it at a server of its own.
WIDENING_KEYS: tuple[str, ...] = ("test_command", "bash_allow", "write_scopes", "sandbox", "base_url")
# Fields of a table that widen: `[temporal] address` is the server every request and handoff goes to,
# `remote` the git repository the run's code is pushed to; a repository must not choose either unasked.
WIDENING_FIELDS: dict[str, tuple[str, ...]] = {"temporal": ("address", "remote")}
READ_ONLY_TOOLS: frozenset[str] = frozenset({"Read", "Grep", "Glob", "Skill"})  # what a new agent may have unasked
TRUST_HINT = "run `autodev trust` to review and approve it"

TrustStatus = Literal["nothing", "trusted", "untrusted", "changed"]


@dataclass(frozen=True)
class Widening:
    """One thing the repository widens: a key (`test_command`, `write_scopes.reviewer`), an agent or a skill."""

    kind: Literal["key", "agent", "skill"]
    name: str  # the key, or the agent's or skill's name
    source: str  # the file it comes from, relative to the repository
    detail: str  # the value as read, or what the file adds
    path: Path | None = None  # the agent file or SKILL.md left out while untrusted

    def label(self) -> str:
        return self.name if self.kind == "key" else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class TrustCheck:
    """A repository's widening items, their digest, and whether the user approved exactly that."""

    repo: Path
    items: tuple[Widening, ...]
    digest: str
    status: TrustStatus
    approved_at: str | None = None  # of the recorded approval (of this digest, or of an older one)

    @property
    def trusted(self) -> bool:
        return self.status in ("nothing", "trusted")

    def ignored(self) -> tuple[Widening, ...]:
        return () if self.trusted else self.items

    def ignored_files(self) -> frozenset[Path]:
        return frozenset(item.path for item in self.ignored() if item.path is not None)

    def notes(self) -> list[str]:
        """One line per ignored item: what, from where, why, and what to do."""
        why = "changed since you approved it" if self.status == "changed" else "not approved"
        fallback = {"key": "the default applies", "agent": "the built-in or user-level agent of that name applies"}
        return [
            f"ignored {item.label()} from {item.source} ({item.detail}): {why}, "
            f"{fallback.get(item.kind, 'not loaded')}; {TRUST_HINT}"
            for item in self.ignored()
        ]


# ---------------------------------------------------------------- what widens
def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _relative(repo: Path, path: Path | str) -> str:
    try:
        return Path(path).relative_to(repo).as_posix()
    except ValueError:
        return str(path)


def key_widens(key: str) -> bool:
    """`test_command`, `write_scopes.reviewer`, ...: a key (or table entry) only an approval lets through."""
    return key.partition(".")[0] in WIDENING_KEYS


def _widening_fields(item: Sourced) -> dict[str, Any]:
    """The fields of a table value that widen (`[temporal] address`), those that are set."""
    fields = WIDENING_FIELDS.get(item.key, ())
    plain = _plain(item.value)
    return {name: plain[name] for name in fields if isinstance(plain, dict) and plain.get(name) is not None}


def without_widening(item: Sourced) -> Sourced | None:
    """`item` as an untrusted repository may set it: None for a widening key, a table without its
    widening fields (the layer below or the default applies to them), or the item as it is."""
    if key_widens(item.key):
        return None
    if not _widening_fields(item) or not isinstance(item.value, BaseModel):
        return item
    cleared = item.value.model_copy(update=dict.fromkeys(WIDENING_FIELDS[item.key]))
    return Sourced(item.key, cleared, item.source)


def _key_items(repo: Path, values: Iterable[Sourced]) -> Iterator[tuple[Widening, bytes]]:
    for item in values:
        if key_widens(item.key):
            shown = json.dumps(_plain(item.value), ensure_ascii=False, sort_keys=True, default=str)
            yield Widening("key", item.key, _relative(repo, item.source), f"= {shown}"), shown.encode()
        for name, value in _widening_fields(item).items():
            shown = json.dumps(value, ensure_ascii=False, default=str)
            key = f"{item.key}.{name}"
            yield Widening("key", key, _relative(repo, item.source), f"= {shown}"), f"{key}={shown}".encode()


def _bash_entries(spec: AgentSpec) -> frozenset[str] | None:
    """The agent's `Bash` grants: None for plain Bash (anything the allow-list permits)."""
    if spec.tools is None:
        return None
    entries = frozenset(t for t in spec.tools if tool_names.base_name(t) == "Bash")
    return None if "Bash" in entries else entries


def _scope_within(scope: tuple[str, ...] | None, base: tuple[str, ...] | None) -> bool:
    """Whether write globs `scope` stay within `base` (None: no scope, its tools decide), compared as written."""
    if base is None or ("**" in base and not any(p.startswith("!") for p in base)):
        return True
    if scope is None:
        return False
    positive = {p for p in scope if not p.startswith("!")}
    if not positive:  # read-only
        return True
    return positive <= set(base) and {p for p in base if p.startswith("!")} <= set(scope)


def agent_widening(spec: AgentSpec, base: AgentSpec | None) -> list[str]:
    """What `spec` may do that `base` (the agent it replaces; None: a new agent) may not; empty: nothing."""
    offered = set(spec.offered_tools())
    before = set(base.offered_tools()) if base is not None else set(READ_ONLY_TOOLS)
    reasons = []
    added = sorted(offered - before)
    if added:
        reasons.append(f"adds {', '.join(added)}")
    if "Bash" in offered and "Bash" in before and base is not None:
        mine, theirs = _bash_entries(spec), _bash_entries(base)
        if theirs is not None and (mine is None or not mine <= theirs):
            reasons.append("widens its Bash entries")
    writes = bool(offered & (tool_names.WRITING_TOOLS | {"Bash"}))
    base_scope = base.write_scope if base is not None else ()
    if writes and not _scope_within(spec.write_scope, base_scope):
        shown = (
            "none, it writes wherever its tools can" if spec.write_scope is None else json.dumps(list(spec.write_scope))
        )
        reasons.append(f"write_scope: {shown}")
    return reasons


def _trusted_agents() -> dict[str, AgentSpec]:
    """The built-in and user-level agents a repository file would replace."""
    try:
        return load_agents(None)
    except UserError:  # a broken user-level file is reported where agents are loaded; compare with none here
        return {}


def _agent_items(repo: Path) -> Iterator[tuple[Widening, bytes]]:
    base: dict[str, AgentSpec] | None = None
    for directory in agent_dirs(repo)[len(agent_dirs(None)) :]:  # the repository's own: .claude/, .autodev/
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.md")):
            data = _read_bytes(path)
            try:
                spec = parse_agent_text(path, data.decode("utf-8-sig"))
            except (FrontmatterError, UnicodeDecodeError):
                continue  # loading it reports the error; once fixed it is judged (and the digest changes)
            base = _trusted_agents() if base is None else base
            reasons = agent_widening(spec, base.get(spec.name))
            if reasons:
                yield Widening("agent", spec.name, _relative(repo, path), "; ".join(reasons), path), data


def _skill_items(repo: Path) -> Iterator[tuple[Widening, bytes]]:
    for directory in skill_dirs(repo)[len(skill_dirs(None)) :]:  # the repository's own: .claude/, .autodev/
        if not directory.is_dir():
            continue
        for skill_file in sorted(directory.glob(f"*/{SKILL_FILE}")):
            folder = skill_file.parent
            carried = sorted(p for p in folder.rglob("*") if p != skill_file and (p.is_file() or p.is_symlink()))
            if not carried:
                continue
            content = b"".join(
                _relative(folder, p).encode() + b"\0" + _read_bytes(p) + b"\0" for p in [skill_file, *carried]
            )
            shown = ", ".join(_relative(folder, p) for p in carried)
            yield Widening("skill", folder.name, _relative(repo, folder), f"carries {shown}", skill_file), content


def _read_bytes(path: Path) -> bytes:
    """A file's bytes (through a symlink: its target's); a link to nothing or to a folder: the link itself."""
    try:
        return path.read_bytes()
    except OSError as exc:
        if path.is_symlink():
            return b"-> " + str(path.readlink()).encode()
        raise UserError(f"{path}: cannot read it to check whether it needs trust: {exc.strerror}") from None


def widening_items(repo: Path, repo_values: Sequence[Sourced]) -> tuple[tuple[Widening, ...], str]:
    """Everything in `repo` that needs approval (`repo_values`: its config file's values), and one digest over it."""
    found = [*_key_items(repo, repo_values), *_agent_items(repo), *_skill_items(repo)]
    digest = hashlib.sha256()
    for item, content in found:
        for part in (item.kind, item.name, item.source, content.hex()):
            digest.update(part.encode() + b"\n")
    return tuple(item for item, _ in found), f"sha256:{digest.hexdigest()}"


def check_trust(repo: Path, repo_values: Sequence[Sourced], approved_digest: str | None = None) -> TrustCheck:
    """`approved_digest`: a digest the user approved elsewhere for the same content (a Temporal worker's
    clone gets the one its client approved); it counts only when it equals this content's."""
    items, digest = widening_items(repo, repo_values)
    if not items:
        return TrustCheck(repo, items, digest, "nothing")
    if approved_digest is not None and approved_digest == digest:
        return TrustCheck(repo, items, digest, "trusted")
    approval: Approval | None = read_approvals().get(repo_key(repo))
    if approval is None:
        return TrustCheck(repo, items, digest, "untrusted")
    status: TrustStatus = "trusted" if approval.digest == digest else "changed"
    return TrustCheck(repo, items, digest, status, approval.approved_at)


def repo_trust(repo: Path) -> TrustCheck:
    """`check_trust` for `repo` as its config file reads now: what `autodev trust` shows and approves."""
    return check_trust(repo, repo_layer(repo))


def approve(check: TrustCheck, *, fixture: bool = False) -> Approval:
    """Record the user's approval of exactly what `check` saw (nothing when nothing needs it).

    `fixture`: autodev approves a repository it made from its own files (the demo, an eval task, a
    bench case); such an approval is dropped once that repository is gone.
    """
    if not check.items:
        return Approval(check.digest, "", [], fixture)
    labels = [f"{item.label()} ({item.source})" for item in check.items]
    return record_approval(check.repo, check.digest, labels, fixture=fixture)


def trust_own_fixture(repo: Path) -> None:
    """Approve a repository autodev just made from its own files: its settings are autodev's, not a stranger's."""
    approve(repo_trust(repo), fixture=True)
