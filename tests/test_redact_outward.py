"""Redaction on every outward string (issue #16, finding 9): keys glued to other characters, values of
environment variables whose names don't look secret, and each place a run writes or prints text: the
commit message, the CLI's lines (the `error:` line, the diff stat), `autodev plan`, the analysers'
records, state.json, metrics and sessions.

The samples are built at run time from pieces, so no file in the repository holds a whole key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scripts import ADDRESSED, CALC_FILES, call, error, feature_script, final, git, implemented, settle, tools

from autodev.apps.cli.main import main
from autodev.core import secret_scan
from autodev.core.redact import redact, redact_data

ANTHROPIC = "sk-ant-" + "api03-" + "Q7wE9rT2yU4iO6pA8sD1fG3h"
GITHUB = "ghp" + "_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7"
AWS_ID = "AK" + "IA" + "QX7Z2LMN4PRS8TUV"
WITHHELD = "Zq8vL2mP9rT4wK7nB3xY"  # the value of a variable whose name doesn't look secret
WITHHELD_NAME = "DEPLOY_HOOK_REF"


# --------------------------------------------------------------------------- glued keys
@pytest.mark.parametrize(
    "text, secret",
    [
        (f"x-{ANTHROPIC}", ANTHROPIC),
        (f"KEY_{ANTHROPIC}", ANTHROPIC),
        (f"id{AWS_ID}", AWS_ID),
        (f"x_{GITHUB}", GITHUB),
        (f"prefix{GITHUB} tail", GITHUB),
        (f"file-{AWS_ID}.txt", AWS_ID),
        (f"name={ANTHROPIC}x", ANTHROPIC[:20]),
    ],
)
def test_keys_glued_to_other_characters_are_redacted(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert "[REDACTED:" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "MAKIA is a word",  # no key follows the anchor
        "the sk-ant- prefix is documented",
        "ghp_short",
        "desk-ant-colony-and-more",
        "housekeeping_task_ghp_",
    ],
)
def test_anchors_without_a_key_stay(text: str) -> None:
    assert redact(text) == text


# --------------------------------------------------------------------------- withheld environment values
def test_values_of_variables_with_harmless_looking_names_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WITHHELD_NAME, WITHHELD)
    assert redact(f"the ref is {WITHHELD}.") == f"the ref is [REDACTED:env:{WITHHELD_NAME}]."
    assert WITHHELD not in json.dumps(redact_data({"note": [f"x{WITHHELD}y"]}))


@pytest.mark.parametrize(
    "name, value",
    [
        ("HOME", "/home/someone"),
        ("LANG", "en_US.UTF-8"),
        ("TERM", "xterm-256color"),
        ("USER", "someone42x"),
        ("LC_ALL", "C.UTF-8xx1"),
        ("PYTHONHASHSEED", "12345678"),
        ("AUTODEV_MODEL", "claude-sonnet-4-5"),  # not random-looking
        ("APP_ENV", "production"),
        ("BUILD_NUMBER", "1234567890"),
        ("EDITOR_CMD", "code --wait"),  # has a space: a command, not a credential
        ("DATA_DIR", "/var/lib/data1234"),
    ],
)
def test_harmless_environment_values_stay(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    assert redact(f"value: {value} here") == f"value: {value} here"


def test_registered_values_are_redacted_and_can_be_withdrawn() -> None:
    secret_scan.register_secret("JAIL_WITHHELD", "plainwordsecret")
    try:
        assert redact("it was plainwordsecret!") == "it was [REDACTED:env:JAIL_WITHHELD]!"
    finally:
        secret_scan.unregister_secret("JAIL_WITHHELD")
    assert redact("it was plainwordsecret!") == "it was plainwordsecret!"


def test_withheld_environment_is_everything_off_the_allow_list() -> None:
    env = {"PATH": "/bin", "HOME": "/h", "LC_CTYPE": "C", "MISTRAL_KEY": "abc", "DATABASE_URL": "x", "PYTHONPATH": "p"}
    assert sorted(secret_scan.withheld_names(env)) == ["DATABASE_URL", "MISTRAL_KEY"]


# --------------------------------------------------------------------------- plan
@pytest.fixture
def repo(make_repo: Any) -> Path:
    path = make_repo(CALC_FILES)
    settle(path)
    return path


REQUEST = f"Add mul x-{ANTHROPIC} now\nAlso id{AWS_ID} and {WITHHELD} and x_{GITHUB}"
SECRETS = (ANTHROPIC, AWS_ID, WITHHELD, GITHUB)


def _assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret[:8]}... in {where}"


def test_plan_and_plan_json_redact_the_request(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WITHHELD_NAME, WITHHELD)
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted"]) == 0
    out = capsys.readouterr().out
    _assert_clean(out, "plan")
    assert "[REDACTED:anthropic_key]" in out
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    _assert_clean(json.dumps(data), "plan --json")
    assert data["request"].startswith("Add mul x-[REDACTED:anthropic_key] now")


# --------------------------------------------------------------------------- a whole run
SECRET_FILE = f"notes/id{AWS_ID}.txt"


def _script_writing_a_secret_named_file() -> dict[str, Any]:
    return feature_script(
        {
            "implementer": [
                tools(
                    call("Write", file_path=SECRET_FILE, content="notes\n"),
                    call(
                        "Edit",
                        file_path="calc/__init__.py",
                        old_string="    return a + b\n",
                        new_string="    return a + b\n\n\ndef mul(a, b):\n    return a * b\n",
                    ),
                    text="Adding mul.",
                ),
                final(implemented("- Added `mul(a, b)`.")),
                final(ADDRESSED),
                final(ADDRESSED),
            ]
        }
    )


def _everything_written(run_dir: Path) -> str:
    return "\n".join(
        path.read_text(encoding="utf-8", errors="replace") for path in sorted(run_dir.rglob("*")) if path.is_file()
    )


def test_a_run_writes_and_prints_no_secret(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WITHHELD_NAME, WITHHELD)
    script = tmp_path / "script.json"
    script.write_text(json.dumps(_script_writing_a_secret_named_file()), encoding="utf-8")
    code = main(["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script)])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    _assert_clean(captured.out, "stdout")
    _assert_clean(captured.err, "stderr")
    assert "notes/" in captured.out  # the diff stat is printed, its secret part redacted
    (run_dir,) = (repo / ".autodev" / "runs").iterdir()
    state = json.loads((run_dir / "state.json").read_text(encoding="utf-8"))
    assert state["status"] == "done"
    _assert_clean(_everything_written(run_dir), "the run directory")
    log = git(repo, "log", "--format=%B", state["branch"], "-n", "20")
    _assert_clean(log, "commit messages")
    assert log.startswith("autodev: Add mul x-[REDACTED:anthropic_key] now")


def test_a_failed_runs_error_line_is_redacted(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WITHHELD_NAME, WITHHELD)
    script = tmp_path / "script.json"
    failing = feature_script({"researcher-web": [error(f"boom x-{ANTHROPIC} {WITHHELD}")]})
    script.write_text(json.dumps(failing), encoding="utf-8")
    code = main(["run", "Add mul", "--repo", str(repo), "--provider", "scripted", "--script", str(script)])
    captured = capsys.readouterr()
    assert code == 1
    assert "error:" in captured.out
    assert "boom" in captured.out
    _assert_clean(captured.out, "stdout")
    _assert_clean(captured.err, "stderr")


@pytest.mark.parametrize("as_json", [False, True])
def test_context_redacts_what_it_retrieved(make_repo: Any, capsys: pytest.CaptureFixture[str], as_json: bool) -> None:
    """`autodev context` prints snippets of the repository: a key committed in one stays out of the output."""
    repo = make_repo(
        {**CALC_FILES, f"keys_{AWS_ID}.py": f'CLIENT_KEY = "{ANTHROPIC}"\n\ndef calc_client():\n    pass\n'}
    )
    assert main(["context", "calc client key", "--repo", str(repo), *(["--json"] if as_json else [])]) == 0
    printed = capsys.readouterr().out
    assert "keys_" in printed  # the file was retrieved
    assert ANTHROPIC not in printed and AWS_ID not in printed
