"""The polyglot benchmark's languages: what each needs on PATH, and how its exercises are tested.

The commands follow Aider's benchmark harness (`benchmark/benchmark.py`, `npm-test.sh`, `cpp-test.sh`)
as closely as an offline jail allows: every test runs (Rust's `#[ignore]`d tests are included, Jest's
`xtest(` becomes `test(`, Java's `@Disabled` goes), and the exit code decides (Python's and node's own
runner also give per-test counts). Differences, said where a user reads them (docs/eval.md):

- Java runs `gradle test --offline` with a `gradle` on PATH (the exercises' `gradlew` would download
  Gradle, and the jail has no network);
- JavaScript exercises whose tests need Jest need a `node_modules` (run `npm install` once in the
  folder's `javascript/`, as Aider's Docker image does in `/npm-install`); it is linked in read-only.
"""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

which = shutil.which  # a module attribute, so a test can hide a toolchain


@dataclass(frozen=True)
class Language:
    name: str
    tools: tuple[str, ...]  # every one must be on PATH
    command: tuple[str, ...]
    append_test_files: bool = False
    unskip: tuple[tuple[str, str], ...] = ()

    def missing(self) -> str | None:
        """Why this language can't run here (a tool not on PATH), or None."""
        absent = [tool for tool in self.tools if which(tool) is None]
        return f"{', '.join(absent)} not on PATH" if absent else None


CPP_BUILD = "mkdir -p build && cd build && cmake -DEXERCISM_RUN_ALL_TESTS=1 -G 'Unix Makefiles' .. && make"

LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        Language("python", ("python3",), ("python", "-m", "unittest"), append_test_files=True),
        Language("javascript", ("node", "npm"), ("npm", "test"), unskip=((r"\bxtest\(", "test("),)),
        Language("go", ("go",), ("go", "test", "./...")),
        Language("rust", ("cargo",), ("cargo", "test", "--offline", "--", "--include-ignored")),
        Language(
            "java", ("java", "gradle"), ("gradle", "test", "--offline"), unskip=((r"@Disabled\([^)]*\)\s*\n", ""),)
        ),
        Language("cpp", ("cmake", "make", "g++"), ("sh", "-c", CPP_BUILD)),
    )
}


def javascript_command(exercise: Path) -> tuple[tuple[str, ...], bool]:
    """(command, append the test files): a package.json running node's own runner is run directly,
    so the jail needs no npm and the report gives per-test counts; anything else is `npm test`."""
    try:
        scripts = json.loads((exercise / "package.json").read_text(encoding="utf-8")).get("scripts") or {}
    except (OSError, ValueError, AttributeError):
        scripts = {}
    script = scripts.get("test") if isinstance(scripts, dict) else None
    if isinstance(script, str) and script.strip().split()[:2] == ["node", "--test"]:
        return tuple(shlex.split(script)), True
    return LANGUAGES["javascript"].command, False
