"""The `VERDICT:` line of the reviewer and security-auditor (DESIGN.md contract)."""

from __future__ import annotations

import pytest

from autodev.agent.verdicts import parse_verdict


def test_approve() -> None:
    verdict = parse_verdict("The change is correct and tested.\n\nVERDICT: APPROVE\n")
    assert verdict.decision == "APPROVE"
    assert verdict.findings == "The change is correct and tested."


def test_request_changes_with_findings_after_the_line() -> None:
    text = (
        "Summary of review.\n\nVERDICT: REQUEST_CHANGES\n1. slugify drops digits (src/text.py:12)\n2. no test for ''\n"
    )
    verdict = parse_verdict(text)
    assert verdict.decision == "REQUEST_CHANGES"
    assert verdict.findings == "1. slugify drops digits (src/text.py:12)\n2. no test for ''"


@pytest.mark.parametrize(
    ("line", "decision"),
    [
        ("**VERDICT: APPROVE**", "APPROVE"),
        ("verdict: approve", "APPROVE"),
        ("Verdict: Request_Changes", "REQUEST_CHANGES"),
        ("VERDICT: REQUEST CHANGES", "REQUEST_CHANGES"),
        ("## VERDICT: APPROVE", "APPROVE"),
        ("  **Verdict:** `REQUEST_CHANGES`.", "REQUEST_CHANGES"),
        ("VERDICT:APPROVE", "APPROVE"),
    ],
)
def test_markdown_and_case_variants(line: str, decision: str) -> None:
    assert parse_verdict(f"Looked at the diff.\n{line}\nfindings here").decision == decision


def test_last_verdict_wins() -> None:
    text = "VERDICT: REQUEST_CHANGES\nmissing test\n\nOn reflection the test exists.\nVERDICT: APPROVE\nall good"
    verdict = parse_verdict(text)
    assert verdict.decision == "APPROVE"
    assert verdict.findings == "all good"
    flipped = parse_verdict("VERDICT: APPROVE\n\nVERDICT: REQUEST_CHANGES\nbroken")
    assert flipped.decision == "REQUEST_CHANGES"
    assert flipped.findings == "broken"


def test_no_verdict() -> None:
    verdict = parse_verdict("  I reviewed the change and it looks fine.  \n")
    assert verdict.decision is None
    assert verdict.findings == "I reviewed the change and it looks fine."


def test_verdict_mentioned_inside_a_sentence_does_not_count() -> None:
    assert parse_verdict("I will end with VERDICT: APPROVE once the tests pass.").decision is None
    assert parse_verdict("VERDICT: MAYBE").decision is None
    assert parse_verdict("").decision is None
