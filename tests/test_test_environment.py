"""The project's tests run in the project's own environment, importing the worktree (issue #17, items 1-2).

Reproductions: the gate ran autodev's own interpreter (a src-layout project's correct change failed,
its package not importable there; a configured `python -m pytest` was rewritten to autodev's Python);
and a `.venv` whose editable install points at the user's checkout would test the checkout, not the
change. Here real virtual environments (made by `venv` and by `uv`) and real git worktrees are used,
and the tests run in the jail as the gate runs them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import git

from autodev.apps.cli.main import main
from autodev.run.gate.environment import TestEnvironment, detect
from autodev.run.gate.project_tests import TestOutcome, run_tests
from autodev.sandbox.jail import SandboxPolicy, bubblewrap_problem, jail_for

GREET = 'def greet():\n    return "hello"\n'
GREET_TEST = (
    "import unittest\n\nfrom greeter import greet\n\n\n"
    "class GreetTests(unittest.TestCase):\n    def test_greet(self):\n        self.assertEqual(greet(), 'hello')\n"
)
PYPROJECT = '[project]\nname = "greeter"\nversion = "0.1"\nrequires-python = ">=3.8"\ndependencies = []\n'
SHOUT_TEST = (
    "\n    def test_shout(self):\n        from greeter import shout\n        self.assertEqual(shout(), 'HELLO')\n"
)


def src_layout_project(make_repo: Any) -> Path:
    return make_repo(
        {
            "pyproject.toml": PYPROJECT,
            "src/greeter/__init__.py": GREET,
            "tests/__init__.py": "",
            "tests/test_greeter.py": GREET_TEST,
            ".gitignore": ".venv/\n.autodev/\n",
        }
    )


def editable_venv(repo: Path) -> Path:
    """`.venv` in the checkout with the project installed editable, as hatch and pdm install it: a `.pth`
    naming the checkout's `src` (no build backend or network needed to make one)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(repo / ".venv")], check=True)
    (site,) = (repo / ".venv" / "lib").glob("python*/site-packages")
    (site / "_greeter_editable.pth").write_text(str(repo / "src") + "\n", encoding="utf-8")
    return repo / ".venv"


def worktree(repo: Path) -> Path:
    path = repo / ".autodev" / "worktrees" / "run1"
    git(repo, "worktree", "add", "--quiet", "--detach", str(path))
    return path


def gate(repo: Path, tree: Path, chosen: TestEnvironment) -> TestOutcome:
    mode = "off" if bubblewrap_problem() else "auto"
    jail = jail_for(SandboxPolicy(mode=mode), tree, repo)  # type: ignore[arg-type]
    return anyio.run(run_tests, list(chosen.command), tree, 120.0, jail, chosen)


def test_an_editable_src_layout_venv_tests_the_worktree_both_ways(make_repo: Any) -> None:
    repo = src_layout_project(make_repo)
    venv = editable_venv(repo)
    chosen = detect(repo, None)
    assert chosen is not None and chosen.source == "venv" and chosen.environment == venv
    assert chosen.command[0] == str(venv / "bin" / "python")  # the project's interpreter, not autodev's
    tree = worktree(repo)
    # a breaking change in the worktree fails, although the checkout the editable install names is fine
    (tree / "src" / "greeter" / "__init__.py").write_text('def greet():\n    raise RuntimeError("broken")\n')
    broken = gate(repo, tree, chosen)
    assert not broken.passed and "RuntimeError" in broken.output
    # a correct change passes, its new test counted
    (tree / "src" / "greeter" / "__init__.py").write_text(GREET + '\n\ndef shout():\n    return "HELLO"\n')
    with (tree / "tests" / "test_greeter.py").open("a", encoding="utf-8") as handle:
        handle.write(SHOUT_TEST)
    fixed = gate(repo, tree, chosen)
    assert fixed.passed, fixed.output
    assert fixed.report is not None and fixed.report.passed == 2 and fixed.report.total == 2


def test_a_uv_project_runs_in_the_environment_uv_made(make_repo: Any) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed (the test extra brings it)")
    repo = src_layout_project(make_repo)
    subprocess.run([uv, "sync", "--offline", "--quiet"], cwd=repo, check=True, capture_output=True)
    git(repo, "add", "uv.lock")
    git(repo, "commit", "--quiet", "-m", "lock")
    chosen = detect(repo, None)
    assert chosen is not None and chosen.source == "uv" and chosen.reason == "uv.lock in the checkout"
    tree = worktree(repo)
    (tree / "src" / "greeter" / "__init__.py").write_text('def greet():\n    return "bye"\n')
    assert not gate(repo, tree, chosen).passed  # the worktree's code, through the overlay
    (tree / "src" / "greeter" / "__init__.py").write_text(GREET)
    outcome = gate(repo, tree, chosen)
    assert outcome.passed and outcome.report is not None and outcome.report.passed == 1, outcome.output


def test_a_configured_command_runs_verbatim_with_the_environment_active(make_repo: Any) -> None:
    repo = src_layout_project(make_repo)
    venv = editable_venv(repo)
    chosen = detect(repo, ["python", "-m", "unittest", "discover", "-q"])
    assert chosen is not None and chosen.command == ("python", "-m", "unittest", "discover", "-q")  # not rewritten
    assert chosen.source == "configured" and "venv" in chosen.reason
    env = chosen.env_for(repo)
    assert env["VIRTUAL_ENV"] == str(venv) and env["PATH"].startswith(str(venv / "bin") + os.pathsep)
    assert env["PYTHONPATH"] == str(repo / "src")


def test_without_a_project_environment_the_first_python_on_path_that_is_not_autodevs(
    make_repo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo({"tests/test_x.py": "import unittest\n"})
    other = tmp_path / "bin"
    other.mkdir()
    (other / "python3").symlink_to(Path(sys.base_prefix) / "bin" / "python3")
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), str(other), os.defpath]))
    chosen = detect(repo, None)
    assert chosen is not None and chosen.source == "python on PATH"
    assert chosen.command[0] == str(other / "python3") != sys.executable


def test_a_version_managers_shim_on_path_is_resolved_to_the_interpreter_it_starts(
    make_repo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pyenv or asdf shim runs a shell and the manager's lookups before every start of the tests; the
    command names the interpreter it picks for the checkout instead (asked once, with the pytest check)."""
    repo = make_repo({"tests/test_x.py": "import unittest\n"})
    real = Path(sys.base_prefix) / "bin" / "python3"
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3"
    shim.write_text(f'#!/bin/sh\n[ -f .python-version ] || exit 97\nexec {real} "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    (repo / ".python-version").write_text("3\n", encoding="utf-8")  # honoured: the shim is asked in the checkout
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), str(shims), os.defpath]))
    chosen = detect(repo, None)
    assert chosen is not None and chosen.source == "python on PATH"
    assert chosen.command[0] == str(real), chosen.command
    assert chosen.command[1:3] in (("-m", "pytest"), ("-m", "unittest"))
    assert chosen.reason == f"no project environment found; {shim} from PATH, which starts {real}"


def test_a_project_without_tests_has_no_test_environment(make_repo: Any) -> None:
    assert detect(make_repo({"README.md": "# docs only\n"}), None) is None


def test_plan_names_the_environment_and_why(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = src_layout_project(make_repo)
    venv = editable_venv(repo)
    assert main(["plan", "add shout()", "--repo", str(repo), "--provider", "scripted"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"in the environment of venv ({venv}): .venv/ in the checkout" in text
    assert main(["plan", "add shout()", "--repo", str(repo), "--provider", "scripted", "--json"]) == 0
    gate_json = json.loads(capsys.readouterr().out)["test_gate"]
    assert gate_json["command"][0] == str(venv / "bin" / "python")
    assert gate_json["environment"] == {"source": "venv", "reason": ".venv/ in the checkout", "path": str(venv)}


NODE_ADD = "exports.add = (a, b) => a + b;\n"
NODE_TEST = (
    'const test = require("node:test");\nconst assert = require("node:assert");\nconst { add } = require("./add");\n'
    'test("adds", () => assert.strictEqual(add(2, 3), 5));\n'
)


def test_a_node_project_runs_npm_test_and_its_junit_report_is_read(make_repo: Any) -> None:
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("node and npm are not installed")
    repo = make_repo(
        {
            "package.json": json.dumps({"name": "adder", "version": "1.0.0", "scripts": {"test": "node --test"}}),
            "add.js": NODE_ADD,
            "add.test.js": NODE_TEST,
        }
    )
    chosen = detect(repo, None)
    assert chosen is not None and chosen.command == ("npm", "test") and chosen.source == "npm"
    tree = worktree(repo)
    (tree / "add.js").write_text("exports.add = (a, b) => a - b;\n")
    broken = gate(repo, tree, chosen)
    assert not broken.passed and broken.report is not None and broken.report.failed == 1, broken.output
    (tree / "add.js").write_text(NODE_ADD)
    with (tree / "add.test.js").open("a", encoding="utf-8") as handle:
        handle.write('test("adds negatives", () => assert.strictEqual(add(-2, -3), -5));\n')
    fixed = gate(repo, tree, chosen)
    assert fixed.passed and fixed.report is not None and (fixed.report.passed, fixed.report.total) == (2, 2)


def test_a_rust_project_runs_cargo_test_by_its_exit_code(make_repo: Any) -> None:
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    body = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
    tests = (
        "\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n"
        "        assert_eq!(super::add(2, 3), 5);\n    }\n}\n"
    )
    repo = make_repo(
        {
            "Cargo.toml": '[package]\nname = "adder"\nversion = "0.1.0"\nedition = "2021"\n',
            "src/lib.rs": body + tests,
            ".gitignore": "target/\n.autodev/\n",
        }
    )
    chosen = detect(repo, None)
    assert chosen is not None and chosen.command == ("cargo", "test", "--offline")
    tree = worktree(repo)
    (tree / "src" / "lib.rs").write_text(body.replace("a + b", "a - b") + tests)
    assert not gate(repo, tree, chosen).passed
    (tree / "src" / "lib.rs").write_text(body + tests)
    fixed = gate(repo, tree, chosen)
    assert fixed.passed, fixed.output
    assert fixed.report is not None and fixed.report.runner == "unknown"  # the exit code decides; no counts


def test_a_whole_run_on_an_editable_venv_project_gates_the_worktree(make_repo: Any) -> None:
    """End to end: the pipeline's own gate, in the project's `.venv`, counts the new test and passes."""
    from scripts import TESTS_WRITTEN, append_to, feature_script, final, implemented, tools

    from autodev.config.settings import CliOverrides
    from autodev.engines.local.launch import run_feature
    from autodev.models.fakes.scripted import ScriptedProvider

    repo = src_layout_project(make_repo)
    editable_venv(repo)
    script = feature_script(
        {
            "test-master": [
                tools(append_to("tests/test_greeter.py", "self.assertEqual(greet(), 'hello')\n", SHOUT_TEST)),
                final(TESTS_WRITTEN),
            ],
            "implementer": [
                tools(
                    append_to("src/greeter/__init__.py", 'return "hello"\n', '\n\ndef shout():\n    return "HELLO"\n')
                ),
                final(implemented("- Added shout().")),
            ],
        }
    )
    result = run_feature("Add shout()", repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(script))
    state = json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))
    assert state["status"] == "done", state.get("error")
    assert state["gate"]["status"] == "passed"
    assert state["gate"]["tests"]["passed"] == 2 and state["gate"]["tests"]["total"] == 2
    assert (repo / "src" / "greeter" / "__init__.py").read_text(encoding="utf-8") == GREET  # the checkout untouched
