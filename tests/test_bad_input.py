"""docs/bad-input.md, executed: every row of its table is run through `autodev`'s `main()`.

The test parses the table, sets up what the row's "what the user did" describes (a registry of setups
keyed by row id: a row without a setup, or a setup without a row, fails), runs the row's command in a
directory holding the repository `proj`, and checks the exit code, the message and its hint on the
stream the row names, and that the user's repository is unchanged: byte for byte (`.git/` included)
when the exit code is 2, and for a run that started, the checkout (`HEAD`, the branch, the index,
`git status`, every file) with only `autodev/*` branches added.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic import FakeAnthropic
from fakes.server import Error
from scripts import (
    ADDRESSED,
    CALC_FILES,
    REQUEST,
    call,
    edit_mul,
    feature_script,
    final,
    git,
    implemented,
    settle,
    tools,
    tree_snapshot,
    trust_if_valid,
)

from autodev.apps.cli.main import cli, main
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import run_feature
from autodev.models.fakes.scripted import ScriptedProvider

DOC = Path(__file__).resolve().parents[1] / "docs" / "bad-input.md"
COLUMNS = ["id", "what the user did", "command", "exit", "shown on", "what they see", "hint"]
RUN_ID_PATTERN = r"\d{8}-\d{6}-[0-9a-f]{6}"
NONE = "—"


# ---------------------------------------------------------------- the table
@dataclass(frozen=True)
class Row:
    id: str
    did: str
    command: str
    exit_code: int
    shown_on: str
    message: str
    hint: str | None


def code_spans(cell: str) -> list[str]:
    """The contents of the markdown code spans in a cell (any number of backticks, CommonMark's space rule)."""
    spans = []
    for match in re.finditer(r"(`+)(.+?)(?<!`)\1(?!`)", cell):
        text = match.group(2)
        if len(text) > 1 and text.startswith(" ") and text.endswith(" ") and text.strip():
            text = text[1:-1]
        spans.append(text)
    return spans


def split_cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [cell.strip().replace("\\|", "|") for cell in cells]


def only_span(cell: str, what: str) -> str:
    spans = code_spans(cell)
    assert len(spans) == 1, f"{what}: expected one code span in {cell!r}"
    return spans[0]


def parse_table(text: str) -> list[Row]:
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| id |"))
    assert split_cells(lines[header]) == COLUMNS, split_cells(lines[header])
    rows = []
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        cells = split_cells(line)
        assert len(cells) == len(COLUMNS), f"{len(cells)} cells in {line!r}"
        row_id = only_span(cells[0], "id")
        hint = None if cells[6] == NONE else only_span(cells[6], f"{row_id} hint")
        rows.append(
            Row(
                id=row_id,
                did=cells[1],
                command=only_span(cells[2], f"{row_id} command"),
                exit_code=int(cells[3]),
                shown_on=cells[4],
                message=only_span(cells[5], f"{row_id} message"),
                hint=hint,
            )
        )
    return rows


ROWS = parse_table(DOC.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- what each row needs
@dataclass
class Case:
    """Where a row runs: `cwd` holds `proj` (the repository) and `replies.json` (a good model script)."""

    cwd: Path
    repo: Path
    monkeypatch: pytest.MonkeyPatch
    stack: ExitStack
    checks: list[Callable[[Case], None]] = field(default_factory=list)

    def write(self, rel: str, text: str) -> Path:
        path = self.cwd / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def write_bytes(self, rel: str, data: bytes) -> None:
        path = self.cwd / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def commit(self, message: str) -> None:
        git(self.repo, "add", "-A")
        git(self.repo, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-qm", message)

    def agent_file(self, name: str, text: str) -> None:
        self.write(f"proj/.autodev/agents/{name}.md", text)
        trust_if_valid(self.repo)  # the user's own file: approved, so its mistakes are what the row meets

    def config(self, text: str) -> None:
        self.write("proj/.autodev/config.toml", CALC_FILES[".autodev/config.toml"] + text)
        trust_if_valid(self.repo)

    def a_run(self) -> None:
        """One finished run in the repository, for the commands that look runs up."""
        run_feature(REQUEST, self.repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(feature_script()))

    def fake_anthropic(self, default: Error) -> FakeAnthropic:
        fake = self.stack.enter_context(FakeAnthropic())
        fake.default = default
        self.monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        return fake


Setup = Callable[[Case], None]


def nothing(case: Case) -> None:
    """The row's command alone is the bad input."""


def plain_dir(case: Case) -> None:
    case.write("plain/notes.txt", "not a repository\n")


def cd_plain_dir(case: Case) -> None:
    plain_dir(case)
    case.monkeypatch.chdir(case.cwd / "plain")


def fresh_repo(case: Case) -> None:
    (case.cwd / "fresh").mkdir()
    git(case.cwd / "fresh", "init", "--quiet")


def dirty_checkout(case: Case) -> None:
    readme = case.repo / "README.md"
    committed = readme.read_text(encoding="utf-8")
    readme.write_text(committed + "\nAn edit not yet committed.\n", encoding="utf-8")
    case.write("proj/notes.txt", "my notes\n")

    def the_branch_has_none_of_it(case: Case) -> None:
        branch = git(case.repo, "branch", "--list", "autodev/*", "--format=%(refname:short)").split()
        assert len(branch) == 1, branch
        assert git(case.repo, "show", f"{branch[0]}:README.md") == committed
        assert "notes.txt" not in git(case.repo, "ls-tree", "-r", "--name-only", branch[0])

    case.checks.append(the_branch_has_none_of_it)


def agent(name: str, text: str) -> Setup:
    return lambda case: case.agent_file(name, text)


def config(text: str) -> Setup:
    return lambda case: case.config(text)


def env(**values: str) -> Setup:
    def setup(case: Case) -> None:
        for key, value in values.items():
            case.monkeypatch.setenv(key, value)

    return setup


def bad_toml(case: Case) -> None:
    case.write("proj/.autodev/config.toml", "max_parallel = \n")


def bad_scripts(case: Case) -> None:
    case.write("bad.yaml", "agents: [unclosed\n")
    case.write("bad.json", json.dumps({"agents": {"reviewer": [{"txet": "typo"}]}}))


def escape_script(case: Case) -> None:
    outside = case.cwd / "outside.txt"
    attempts = tools(
        call("Read", file_path="../outside.txt"),
        call("Write", file_path=str(outside), content="escaped\n"),
        text="Looking around first.",
    )
    replies = [attempts, tools(edit_mul()), final(implemented("- Added mul.")), final(ADDRESSED), final(ADDRESSED)]
    case.write("escape.json", json.dumps(feature_script({"implementer": replies})))

    def nothing_escaped(case: Case) -> None:
        assert not outside.exists()
        assert not (case.repo / ".autodev" / "worktrees" / "outside.txt").exists()
        state = json.loads(next((case.repo / ".autodev" / "runs").glob("*/state.json")).read_text(encoding="utf-8"))
        assert state["status"] == "done"
        assert "def mul(a, b)" in git(case.repo, "show", f"{state['branch']}:calc/__init__.py")  # the run went on

    case.checks.append(nothing_escaped)


def provider_down(case: Case) -> None:
    fake = case.fake_anthropic(Error(529, "Overloaded", headers={"retry-after": "0"}))
    case.checks.append(lambda case: _all_answered(fake, 529))


def unknown_model(case: Case) -> None:
    fake = case.fake_anthropic(Error(404, "model: claude-nope-9"))
    case.checks.append(lambda case: _all_answered(fake, 404))


def _all_answered(fake: FakeAnthropic, status: int) -> None:
    assert fake.requests and all(request.status == status for request in fake.requests)


def two_gates(case: Case) -> None:
    case.agent_file("builder", "---\nname: builder\ndescription: Builds too.\nroles: [gate]\n---\nBuild.\n")
    case.config("[pipeline]\nimplementer = []\nbuilder = []\n")


DEEP_LIST = "[" * 500 + "]" * 500


def deep_script(case: Case) -> None:
    case.write("deep.yaml", "agents:\n  reviewer: " + DEEP_LIST + "\n")


def latin1_script(case: Case) -> None:
    (case.cwd / "latin1.yaml").write_bytes("agents:\n  reviewer:\n    - text: café\n".encode("latin-1"))


def latin1_batch(case: Case) -> None:
    (case.cwd / "requests.txt").write_bytes("add a mul function\nadd a café() function\n".encode("latin-1"))


def deep_batch(case: Case) -> None:
    case.write("requests.txt", '{"request": ' + "[" * 2000 + "]" * 2000 + "}\n")


def config_directory(case: Case) -> None:
    (case.repo / ".autodev" / "config.toml").unlink()
    (case.repo / ".autodev" / "config.toml").mkdir()
    (case.repo / ".autodev" / "config.toml" / "keep").write_text("", encoding="utf-8")
    case.commit("config.toml is a directory")


def read_only(path: Path, case: Case) -> None:
    """`path` read-only even for root: a read-only bind mount (root ignores file modes), else `chmod`."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555)
        case.stack.callback(path.chmod, mode)
        return
    mounted = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount {path} read-only here: {mounted.stderr.decode(errors='replace').strip()}")
    case.stack.callback(subprocess.run, ["umount", str(path)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True, capture_output=True)


def read_only_autodev(case: Case) -> None:
    settle(case.repo)  # now: its files cannot be backdated once read-only
    read_only(case.repo / ".autodev", case)


CYCLE = '[pipeline]\nresearcher-local = []\nplanner = ["researcher-local", "implementer"]\n'
CYCLE += 'test-master = ["planner"]\nimplementer = ["test-master"]\n'

SETUPS: dict[str, Setup] = {
    "empty-request": nothing,
    "draft-without-pr": nothing,
    "issue-file-missing": nothing,
    "repo-missing": nothing,
    "repo-is-a-file": nothing,
    "no-repo-option": cd_plain_dir,
    "not-a-repo": plain_dir,
    "no-commits": fresh_repo,
    "dirty-checkout": dirty_checkout,
    "agent-bad-yaml": agent("x", "---\nname: x\ndescription: [unclosed\n---\nBody.\n"),
    "agent-no-frontmatter": agent("x", "You are an agent.\n"),
    "agent-missing-field": agent("x", "---\nname: x\n---\nBody.\n"),
    "agent-unknown-tier": agent("x", "---\nname: x\ndescription: An agent.\ntier: ultra\n---\nBody.\n"),
    "agent-unknown-tool": agent("x", "---\nname: x\ndescription: An agent.\ntools: Read, Teleport\n---\nBody.\n"),
    "agent-bad-number": agent("x", "---\nname: x\ndescription: An agent.\nmax_turns: many\n---\nBody.\n"),
    "agent-unknown-analyser": agent("x", "---\nname: x\ndescription: An agent.\nfacts: [diff, lint]\n---\nBody.\n"),
    "agent-write-scope-outside": agent("x", '---\nname: x\ndescription: An agent.\nwrite_scope: ["../**"]\n---\nB.\n'),
    "pipeline-two-gates": two_gates,
    "skill-unknown": agent(
        "reviewer", "---\nname: reviewer\ndescription: Ours.\nskills: [no-such-skill]\n---\nBody.\n"
    ),
    "model-flag-bad": nothing,
    "model-flag-unknown-tier": nothing,
    "unknown-model": unknown_model,
    "provider-flag-unknown": nothing,
    "provider-env-unknown": nothing,
    "provider-config-unknown": config('provider = "gemini"\n'),
    "no-provider": nothing,
    "anthropic-no-key": nothing,
    "openai-no-key": nothing,
    "config-bad-toml": bad_toml,
    "config-unknown-key": config("max_paralel = 2\n"),
    "config-wrong-type": config('max_parallel = "four"\n'),
    "config-out-of-range": config("max_parallel = 0\n"),
    "config-unknown-tier": config('[agents.reviewer]\ntier = "ultra"\n'),
    "env-max-parallel-text": nothing,
    "env-max-parallel-zero": nothing,
    "env-otel-bad": nothing,
    "env-script-missing": nothing,
    "max-parallel-zero": nothing,
    "only-unknown-agent": nothing,
    "skip-unknown-agent": nothing,
    "skip-and-only": nothing,
    "full-and-skip": nothing,
    "only-without-implementer": nothing,
    "scripted-without-script": nothing,
    "script-missing": nothing,
    "script-bad-yaml": bad_scripts,
    "script-bad-field": bad_scripts,
    "config-test-command-unclosed": lambda case: case.write(
        "proj/.autodev/config.toml", 'test_command = "pytest \\"unclosed"\n'
    ),
    "config-nested-too-deep": config("x = " + DEEP_LIST + "\n"),
    "config-is-a-directory": config_directory,
    "agent-nested-too-deep": agent("x", "---\nname: x\ndescription: " + DEEP_LIST + "\n---\nBody.\n"),
    "agent-not-utf8": lambda case: case.write_bytes(
        "proj/.autodev/agents/x.md", "---\nname: x\ndescription: Résumés.\n---\nBody.\n".encode("latin-1")
    ),
    "script-nested-too-deep": deep_script,
    "script-not-utf8": latin1_script,
    "batch-not-utf8": latin1_batch,
    "batch-nested-too-deep": deep_batch,
    "autodev-read-only": read_only_autodev,
    "pipeline-cycle": config(CYCLE),
    "pipeline-unknown-agent": config(
        '[pipeline]\nresearcher-local = []\nplanner = ["researcher-local"]\nwizard = ["planner"]\n'
        'implementer = ["wizard"]\n'
    ),
    "pipeline-unknown-dependency": config('[pipeline]\nplanner = ["oracle"]\nimplementer = ["planner"]\n'),
    "report-unknown-run": Case.a_run,
    "report-no-runs": nothing,
    "report-timeline-format": Case.a_run,
    "resume-unknown-run": Case.a_run,
    "undo-unknown-run": Case.a_run,
    "continue-without-request": nothing,
    "continue-unknown-run": Case.a_run,
    "init-config-exists": nothing,
    "clean-unknown-run": Case.a_run,
    "tool-leaves-repo": escape_script,
    "provider-outage": provider_down,
    "local-server-default-tiers": nothing,
}
NOT_YET: dict[str, str] = {}  # row id -> the command it needs that is not there yet
if "resume" not in cli.commands:
    NOT_YET["resume-unknown-run"] = "autodev resume is being added (issue #9)"


# ---------------------------------------------------------------- checking
def parse_command(command: str) -> tuple[dict[str, str], list[str]]:
    """`NAME=value ... autodev ARGS` -> ({NAME: value}, ARGS)."""
    words = shlex.split(command)
    variables = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        variables[name] = value
    assert words[:1] == ["autodev"], command
    return variables, words[1:]


def line_pattern(text: str, case: Case, cwd: Path) -> re.Pattern[str]:
    """A documented line as a pattern: placeholders filled in, a trailing `…` matching the rest."""
    prefix = text.endswith("…")
    parts = re.split(r"(<repo>|<cwd>|<run_id>)", text.removesuffix("…"))
    values = {"<repo>": re.escape(str(case.repo)), "<cwd>": re.escape(str(cwd)), "<run_id>": RUN_ID_PATTERN}
    body = "".join(values.get(part, re.escape(part)) for part in parts)
    return re.compile(body + (".*" if prefix else ""))


def after_usage(lines: list[str]) -> list[str]:
    """The lines from the first one that says what is wrong: the command-line parser's usage lines skipped."""
    index = 0
    while index < len(lines) and (not lines[index].strip() or lines[index].startswith(("Usage: ", "Try '"))):
        index += 1
    return lines[index:]


def find_lines(lines: list[str], message: re.Pattern[str], hint: re.Pattern[str] | None) -> bool:
    """Whether a line is `message`, with `hint` (indented by two spaces) right under it when one is documented."""
    for index, line in enumerate(lines):
        if message.fullmatch(line.rstrip()):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if hint is None or (following.startswith("  ") and hint.fullmatch(following.strip())):
                return True
    return False


def session_lines(repo: Path, agent: str) -> list[str]:
    sessions = sorted((repo / ".autodev" / "runs").glob(f"*/sessions/{agent}.md"))
    assert sessions, f"no session file for {agent}"
    # what the model saw: a tool result is written as "← ERROR <the text the model got>"
    text = sessions[-1].read_text(encoding="utf-8")
    return [line.removeprefix("← ERROR ").removeprefix("← ") for line in text.splitlines()]


def user_files(repo: Path) -> dict[str, bytes]:
    """The checkout as the user sees it: every file but git's internals and the runs' own directories."""
    own = (".git/", ".autodev/runs/", ".autodev/worktrees/", ".autodev/cache/")
    return {path: data for path, data in tree_snapshot(repo).items() if not path.startswith(own)}


def refs(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()


def repo_facts(repo: Path) -> dict[str, Any]:
    return {
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "symbolic-ref", "HEAD"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "index": (repo / ".git" / "index").read_bytes(),
        "files": user_files(repo),
        "refs": [ref for ref in refs(repo) if not ref.startswith("refs/heads/autodev/")],
    }


@pytest.fixture
def case(make_repo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Case]:
    repo = make_repo(CALC_FILES, name="proj")
    (tmp_path / "replies.json").write_text(json.dumps(feature_script()), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with ExitStack() as stack:
        yield Case(tmp_path, repo.resolve(), monkeypatch, stack)


def test_the_table_and_the_setups_name_the_same_cases() -> None:
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), "duplicate row ids"
    assert sorted(ids) == sorted(SETUPS)
    assert len(ROWS) >= 40


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input_row(row: Row, case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    if row.id in NOT_YET:
        pytest.xfail(NOT_YET[row.id])
    SETUPS[row.id](case)
    variables, argv = parse_command(row.command)
    for name, value in variables.items():
        case.monkeypatch.setenv(name, value)
    settle(case.repo)  # so that comparing .git/index byte for byte is fair
    cwd = Path.cwd()
    before_all = tree_snapshot(case.repo)
    before = repo_facts(case.repo)
    refs_before = refs(case.repo)
    around = sorted(path.name for path in case.cwd.iterdir())

    code = main(argv)
    captured = capsys.readouterr()

    shown = {"stdout": captured.out, "stderr": captured.err}
    where = f"{row.id}: exit {code}\n--- stdout\n{captured.out}\n--- stderr\n{captured.err}"
    assert code == row.exit_code, where
    assert "Traceback" not in captured.out + captured.err, where
    if row.shown_on.startswith("session "):
        lines = session_lines(case.repo, row.shown_on.removeprefix("session "))
    elif row.shown_on == "stderr":
        lines = after_usage(captured.err.splitlines())[:2]  # the first thing the user reads
    else:
        lines = shown[row.shown_on].splitlines()  # a run's outcome: under its "run failed" line
    hint = line_pattern(row.hint, case, cwd) if row.hint else None
    assert find_lines(lines, line_pattern(row.message, case, cwd), hint), where

    # the user's repository
    if code == 2:
        assert tree_snapshot(case.repo) == before_all  # nothing at all was written, .git/ included
    assert repo_facts(case.repo) == before
    added = [ref for ref in refs(case.repo) if ref not in refs_before]
    assert all(ref.startswith("refs/heads/autodev/") for ref in added), added
    assert sorted(path.name for path in case.cwd.iterdir()) == around  # nothing new next to it either
    for check in case.checks:
        check(case)


def test_a_bad_sandbox_mode_in_the_environment_is_one_line_naming_its_source(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found reviewing the jail: AUTODEV_SANDBOX=bogus reached `Settings` unchecked and ended in a traceback."""
    repo = make_repo()
    monkeypatch.setenv("AUTODEV_SANDBOX", "bogus")
    assert main(["plan", "add g", "--repo", str(repo), "--provider", "scripted"]) == 2
    err = capsys.readouterr().err
    assert "sandbox (from env AUTODEV_SANDBOX)" in err and "'auto', 'bubblewrap' or 'off'" in err
    assert "Traceback" not in err
