"""A model script that carries one small feature through the whole pipeline on any src-layout project.

The quickstart test (and the walk by hand on a real project) needs replies that work on a repository
autodev did not make: test-master writes a new test file, the implementer a new module in the
package, the reviewers approve. Nothing else in the project is read or changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REQUEST = "add a shout(text) helper that upper-cases text and adds an exclamation mark"


def _final(text: str) -> dict[str, Any]:
    return {"text": text}


def _tool(text: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"text": text, "tool_calls": [{"name": name, "input": arguments}]}


def quickstart_script(package: str, package_dir: str) -> dict[str, Any]:
    """Replies for every built-in agent; `package` is the import name, `package_dir` where it lives."""
    module = f"{package_dir}/shout.py"
    # unittest style: pytest and unittest both run it, whichever the project's environment has
    test = (
        f"import unittest\n\nfrom {package}.shout import shout\n\n\n"
        "class ShoutTests(unittest.TestCase):\n"
        "    def test_upper_cases_and_exclaims(self):\n"
        '        self.assertEqual(shout("hello"), "HELLO!")\n\n'
        "    def test_nothing_is_just_the_mark(self):\n"
        '        self.assertEqual(shout(""), "!")\n'
    )
    code = '"""shout(): text, louder."""\n\n\ndef shout(text: str) -> str:\n    return text.upper() + "!"\n'
    return {
        "version": 1,
        "agents": {
            "researcher-local": [
                _tool("Looking at the package.", "Glob", pattern=f"{package_dir}/*.py"),
                _final(f"## Local findings\n- `{package_dir}` holds the package; tests live in `tests/`."),
            ],
            "planner": [
                _final(f"## Plan\n1. Tests: `tests/test_shout.py`.\n2. Code: `{module}` with `shout(text)`."),
            ],
            "test-master": [
                _tool("Writing the tests.", "Write", file_path="tests/test_shout.py", content=test),
                _final("## Tests written\n`tests/test_shout.py`: two tests of `shout`, red until it exists."),
            ],
            "implementer": [
                _tool("Writing the module.", "Write", file_path=module, content=code),
                _final(f"## Implemented\n`{module}`: `shout(text)` upper-cases and adds `!`."),
            ],
            "reviewer": [_final("## Review\nSmall, tested, matches the plan.\n\nVERDICT: APPROVE")],
            "security-auditor": [_final("## Security\nNo input reaches anything dangerous.\n\nVERDICT: APPROVE")],
            "doc-master": [_final("## Docs\nA helper this small needs no docs change.")],
        },
    }


def write_quickstart_script(path: Path, package: str, package_dir: str) -> Path:
    path.write_text(yaml.safe_dump(quickstart_script(package, package_dir), sort_keys=False), encoding="utf-8")
    return path


if __name__ == "__main__":
    import sys

    print(write_quickstart_script(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))
