"""`--grade local`: a local approximation of the official harness, in the project's own environment.

The official harness builds a Docker image per instance, applies the prediction and the `test_patch`,
runs the instance's test files and parses the log. Here: a fresh repository at `base_commit`, the
prediction applied (`git apply`, then `patch --fuzz` as the harness falls back to), the `test_patch`
applied over it, and `FAIL_TO_PASS` + `PASS_TO_PASS` run by name with the test command the project's
environment gives (`autodev.run.gate.environment.detect` on the local clone: its `.venv`, uv, poetry
... or the python on PATH), in the jail. Resolved when that run passes and counts at least one test per
name. It is an approximation: the project's dependencies are whatever the local environment has, and
test names are passed to the runner as the dataset writes them (pytest node ids; Django's names need a
configured runner), so an instance the harness resolves may fail here and the other way round.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio

from autodev.apps.eval.swebench.dataset import Instance
from autodev.apps.eval.swebench.repos import make_instance_repo
from autodev.core import gitops
from autodev.run.gate.environment import TestEnvironment, detect
from autodev.run.gate.project_tests import run_tests
from autodev.sandbox.jail import SandboxPolicy, jail_for

LABEL = "local approximation of the official SWE-bench harness"
TIMEOUT_S = 1800.0
APPLY_TIMEOUT_S = 120


@dataclass(frozen=True)
class LocalGrade:
    resolved: bool
    note: str
    tests_passed: int = 0
    tests_total: int | None = None
    command: tuple[str, ...] = ()
    failing: tuple[str, ...] = ()
    label: str = LABEL

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "command": list(self.command), "failing": list(self.failing)}


def _apply(work: Path, patch: str, scratch: Path, name: str) -> str | None:
    """Apply `patch` as the harness does: `git apply`, else `patch --fuzz=5`; why it failed, or None."""
    if not patch.strip():
        return None
    patch_file = scratch / f"{name}.diff"
    patch_file.write_text(patch, encoding="utf-8")
    if gitops.git(["apply", "--whitespace=nowarn", str(patch_file)], work, check=False).returncode == 0:
        return None
    if shutil.which("patch") is not None:
        fuzzy = ["patch", "--batch", "--fuzz=5", "-p1", "-i", str(patch_file)]
        done = subprocess.run(fuzzy, cwd=work, capture_output=True, timeout=APPLY_TIMEOUT_S, check=False)
        if done.returncode == 0:
            return None
    return f"the {name} does not apply at base_commit"


def named_tests_command(environment: TestEnvironment, tests: list[str]) -> list[str]:
    """The environment's runner with the tests by name; `unittest discover` takes no names, so it
    becomes `-m unittest NAME ...` (names are then dotted ids)."""
    argv = list(environment.command)
    if "unittest" in argv and "discover" in argv:
        argv = argv[: argv.index("unittest") + 1]
    return [*argv, *tests]


def grade_local(
    instance: Instance, source: Path, patch: str, policy: SandboxPolicy | None = None, workdir: Path | None = None
) -> LocalGrade:
    tests = [*instance.fail_to_pass, *instance.pass_to_pass]
    if not tests:
        return LocalGrade(False, "the instance lists no FAIL_TO_PASS or PASS_TO_PASS tests")
    environment = detect(source, None)
    if environment is None:
        return LocalGrade(False, f"no test environment found for {source}")
    with tempfile.TemporaryDirectory(prefix="autodev-swebench-grade-", dir=workdir) as scratch_dir:
        scratch = Path(scratch_dir)
        work = scratch / "project"
        make_instance_repo(instance, source, work, None)
        for name, text in (("prediction", patch), ("test_patch", instance.test_patch)):
            problem = _apply(work, text, scratch, name)
            if problem is not None:
                return LocalGrade(False, problem)
        command = named_tests_command(environment, tests)
        jail = jail_for(policy or SandboxPolicy(), work, work, readable=environment.readable)
        outcome = anyio.run(run_tests, command, work, TIMEOUT_S, jail, environment)
    report = outcome.report
    total = report.total if report is not None else None
    passed = (report.passed or 0) if report is not None else 0
    counted = total is not None and total >= len(tests)
    resolved = outcome.passed and (counted or total is None)
    note = "every FAIL_TO_PASS and PASS_TO_PASS test passed" if resolved else "some listed test failed or did not run"
    if outcome.passed and not counted and total is not None:
        note = f"only {total} test(s) ran for {len(tests)} name(s)"
    failing = tuple(f.name for f in (report.failures if report is not None else [])[:20])
    return LocalGrade(resolved, note, passed, total, outcome.command, failing)
