"""Every figure in README.md and docs/ comes from a command (`python -m autodev.apps.figures`).

The deterministic, quick blocks are rerun here and must match the text byte for byte; slow and
machine-dependent blocks must name a real `autodev` command, and machine-dependent ones say when and
where they were measured.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autodev.apps.figures.__main__ import main
from autodev.apps.figures.blocks import BlockError, Kind, find_blocks, rewrite
from autodev.apps.figures.runner import command_problem

ROOT = Path(__file__).resolve().parents[1]


def block(command: str, body: str, kind: str = "") -> str:
    marker = f"figures {kind}: " if kind else "figures: "
    return f"<!-- {marker}{command} -->\n```text\n{body}\n```\n<!-- /figures -->\n"


def test_blocks_are_found_with_their_kind_command_and_output() -> None:
    text = "intro\n" + block("autodev agents | tail -n 1", "skills: 5") + "between\n"
    text += block("autodev bench jail", "42 ms\n```\nMeasured 2026-12-03 on Linux", "machine-dependent")
    first, second = find_blocks(text)
    assert (first.kind, first.command, first.output) == (Kind.CHECKED, "autodev agents | tail -n 1", "skills: 5")
    assert second.kind is Kind.MACHINE and second.stamp == "Measured 2026-12-03 on Linux"


def test_a_marker_inside_a_code_block_is_an_example_not_a_block() -> None:
    text = "```text\n<!-- figures: autodev agents -->\nx\n<!-- /figures -->\n```\n"
    assert find_blocks(text) == []


@pytest.mark.parametrize(
    "text",
    ["<!-- figures: echo hi -->\n```text\nhi\n```\n", "<!-- /figures -->\n", "<!-- figures echo -->\n"],
)
def test_a_broken_marker_is_an_error(text: str) -> None:
    with pytest.raises(BlockError):
        find_blocks(text)


def test_rewrite_replaces_only_the_named_block() -> None:
    text = block("echo a", "old a") + block("echo b", "old b")
    first = find_blocks(text)[0]
    assert rewrite(text, {first.open_line: ["```text", "new a", "```"]}) == block("echo a", "new a") + block(
        "echo b", "old b"
    )


def test_a_command_must_be_a_real_autodev_command() -> None:
    assert command_problem("autodev bench cost | grep tiered") is None
    assert command_problem("autodev eval builtin-smoke --jobs 2") is None  # a group with a default command
    assert "no command 'costs'" in str(command_problem("autodev bench costs"))
    assert "is a group" in str(command_problem("autodev bench"))


def test_check_fails_on_a_stale_block_and_rewriting_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.md"
    page.write_text("# page\n\n" + block("echo fresh", "stale"), encoding="utf-8")
    assert main(["--check", "--root", str(tmp_path), str(page)]) == 1
    assert "+fresh" in capsys.readouterr().out
    assert main(["--root", str(tmp_path), str(page)]) == 0
    assert page.read_text(encoding="utf-8") == "# page\n\n" + block("echo fresh", "fresh")
    assert main(["--check", "--root", str(tmp_path), str(page)]) == 0


def test_a_machine_dependent_block_needs_its_measured_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.md"
    page.write_text(block("autodev bench jail", "12 ms", "machine-dependent"), encoding="utf-8")
    assert main(["--check", "--root", str(tmp_path), str(page)]) == 1
    assert "Measured DATE on MACHINE" in capsys.readouterr().out


def test_every_figure_in_readme_and_docs_is_what_its_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """The committed text against the commands, as CI sees it: plain blocks rerun and diffed (those
    that need ../shared/data skip where it is missing), the others checked for a real command."""
    code = main(["--check", "--root", str(ROOT)])
    assert code == 0, "stale figures; run `python -m autodev.apps.figures`:\n" + capsys.readouterr().out
    blocks = [b for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")] for b in find_blocks(path.read_text())]
    assert {b.kind for b in blocks} == set(Kind), "README and docs hold every kind of figures block"
