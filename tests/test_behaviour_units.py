"""The pieces behind tests/test_behaviour.py, one function each: sections, verdict answers, pins, earlier attempts."""

from __future__ import annotations

from pathlib import Path

from autodev.agent import prompts
from autodev.agent.context.pins import dependency_pins
from autodev.agent.corrections import missing_sections
from autodev.agent.verdicts import parse_verdict, with_answer


def test_a_section_counts_as_a_heading_or_a_line_starting_with_its_name() -> None:
    assert missing_sections("Checked: calc.py\nVERDICT: APPROVE", ("Checked",)) == ()
    assert missing_sections("**Checked:** calc.py", ("Checked",)) == ()
    assert missing_sections("I checked calc.py", ("Checked",)) == ("Checked",)
    assert missing_sections("## Docs updated\n- none: internal", ("Docs updated",)) == ()


def test_the_answer_to_a_verdict_re_ask_decides_over_echoed_templates() -> None:
    echoed = "Checked: x\n1. a.py:1 — bad — fix\nVERDICT: REQUEST_CHANGES\n\nor\n\nVERDICT: APPROVE"
    assert parse_verdict(echoed).conflicting
    verdict = parse_verdict(with_answer(echoed, "VERDICT: REQUEST_CHANGES"))
    assert verdict.decision == "REQUEST_CHANGES" and "1. a.py:1 — bad — fix" in verdict.findings
    # a review without a verdict is kept whole, the answer appended
    assert with_answer("Checked: x\n```\n+VERDICT: APPROVE\n```", "VERDICT: APPROVE").startswith("Checked: x\n```")


def test_dependency_pins_come_from_the_root_manifests(tmp_path: Path) -> None:
    assert dependency_pins(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["httpx>=0.27,<1", "rich"]\n')
    (tmp_path / "requirements-dev.txt").write_text("pytest==8.3.2\n# a comment\n")
    (tmp_path / "package.json").write_text("{ not json")  # left out, never guessed at
    pins = dependency_pins(tmp_path)
    assert pins is not None and pins.startswith("# Project dependencies")
    assert "- pyproject.toml: httpx>=0.27,<1, rich" in pins and "- requirements-dev.txt: pytest==8.3.2" in pins
    assert "package.json" not in pins
    (tmp_path / "requirements.txt").write_text("".join(f"package{i}==1.0.{i}\n" for i in range(400)))
    assert len(dependency_pins(tmp_path) or "") < 1700  # capped for a small context


def test_an_earlier_attempt_shows_its_stats_and_its_changes_section() -> None:
    handoff = "## Changes\n- calc.py — `mul`: added\n## Tests\n- 2 passed\n## Docs impact\n- none"
    changes = prompts.section_of(handoff, "Changes")
    assert changes == "## Changes\n- calc.py — `mul`: added"
    text = prompts.previous_attempt([" calc.py | 3 +++\n 1 file changed"], changes)
    assert text is not None and text.startswith("# Your previous attempt")
    assert "calc.py | 3 +++" in text and "\n## Changes\n" in text  # one level below its own heading
    assert prompts.previous_attempt([], None) is None
