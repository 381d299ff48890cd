"""The README's quickstart, executed: its command block runs line by line on a fresh repository.

The lines are read from README.md (the block after `<!-- quickstart`), so the README and what the
commands really do cannot drift apart. The repository is a small src-layout package like a typical
third-party project, not this one; the scripted provider stands in for the API key the README exports.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from quickstart_support import write_quickstart_script

README = Path(__file__).resolve().parents[1] / "README.md"
PROJECT = {
    "pyproject.toml": '[project]\nname = "greet"\nversion = "1.0"\n',
    "README.md": "# greet\n\nGreetings, politely.\n",
    "src/greet/__init__.py": (
        '"""greet: polite greetings."""\n\n\ndef hello(name: str) -> str:\n    return f"Hello, {name}."\n'
    ),
    "tests/__init__.py": "",
    "tests/test_greet.py": (
        "import unittest\n\nfrom greet import hello\n\n\nclass HelloTests(unittest.TestCase):\n"
        '    def test_hello(self):\n        self.assertEqual(hello("Ada"), "Hello, Ada.")\n'
    ),
}


def quickstart_lines(readme: str) -> list[str]:
    """The commands of the quickstart block, comments and blank lines dropped."""
    match = re.search(r"^<!-- quickstart.*?-->\n```bash\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no `<!-- quickstart ... -->` marker followed by a ```bash block"
    lines = []
    for raw in match.group(1).splitlines():
        words = shlex.split(raw, comments=True)
        if words:
            lines.append(shlex.join(words))
    return lines


def test_the_quickstart_block_has_every_step() -> None:
    lines = quickstart_lines(README.read_text(encoding="utf-8"))
    firsts = [" ".join(line.split()[:2]) for line in lines]
    for step in ("autodev init", "autodev plan", "autodev run", "git diff", "git merge"):
        assert step in firsts, f"the quickstart lost `{step}`: {lines}"
    assert any(line.startswith("export ") and "API_KEY" in line for line in lines)
    assert firsts.index("autodev init") < firsts.index("autodev plan") < firsts.index("autodev run")


def test_the_readme_quickstart_runs_on_a_fresh_repository(make_repo, tmp_path: Path) -> None:
    repo = make_repo(PROJECT, name="greet", trusted=False)
    script = write_quickstart_script(tmp_path / "replies.yaml", "greet", "src/greet")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTODEV_") and not k.endswith("_API_KEY")}
    env.pop("OPENAI_BASE_URL", None)
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        AUTODEV_PROVIDER="scripted",  # stands in for the key the README exports
        AUTODEV_SCRIPT=str(script),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    if os.environ.get("AUTODEV_SANDBOX"):  # conftest turns the jail off where bubblewrap can't run
        env["AUTODEV_SANDBOX"] = os.environ["AUTODEV_SANDBOX"]
    run_id = None
    for line in quickstart_lines(README.read_text(encoding="utf-8")):
        if line.startswith(("cd ", "export ")):
            continue  # the fresh repository is the working directory; the scripted provider needs no key
        if "<run_id>" in line:
            assert run_id, f"`{line}` needs a run id, but no run has finished before it"
            line = line.replace("<run_id>", run_id)
        done = subprocess.run(["bash", "-c", line], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"`{line}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        found = re.search(r"^run done\s+(\S+)", done.stdout, re.MULTILINE)
        run_id = found.group(1) if found else run_id
    assert run_id, "no line of the quickstart finished a run"
    # merged into the user's branch: the new module and its tests, and the run's worktree cleaned away
    assert (repo / "src" / "greet" / "shout.py").is_file() and (repo / "tests" / "test_shout.py").is_file()
    assert not (repo / ".autodev" / "worktrees" / run_id).exists()
    log = subprocess.run(["git", "log", "--format=%s", "-1"], cwd=repo, capture_output=True, text=True, check=True)
    assert log.stdout.startswith("autodev: ")
