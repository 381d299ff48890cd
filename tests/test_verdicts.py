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


def test_repeated_agreeing_verdicts_take_the_findings_after_the_last() -> None:
    verdict = parse_verdict("VERDICT: APPROVE\nfirst look\n\nChecked again.\nVERDICT: APPROVE\nall good")
    assert verdict.decision == "APPROVE"
    assert verdict.findings == "all good"


def test_verdict_lines_that_disagree_are_no_verdict() -> None:
    """Issue 20: the last line used to win, so a reply echoing both templates was an APPROVE."""
    text = "VERDICT: REQUEST_CHANGES\nmissing test\n\nOn reflection the test exists.\nVERDICT: APPROVE\nall good"
    verdict = parse_verdict(text)
    assert verdict.decision is None
    assert verdict.conflicting
    assert verdict.findings == text


@pytest.mark.parametrize(
    "text",
    [
        "Checked: calc.py\nVERDICT: REQUEST_CHANGES\n1. path:LINE — problem — fix\n\nor\n\nVERDICT: APPROVE\n- None.",
        "Checked everything.\nVERDICT: APPROVE or VERDICT: REQUEST_CHANGES",
        "Checked everything.\nVERDICT: APPROVE — or REQUEST_CHANGES if the test is flaky",
        "Checked everything.\nVERDICT: APPROVE | REQUEST_CHANGES",
    ],
)
def test_a_reply_echoing_both_templates_is_no_verdict(text: str) -> None:
    assert parse_verdict(text).decision is None


@pytest.mark.parametrize(
    ("line", "decision"),
    [
        ("VERDICT: APPROVED", "APPROVE"),
        ("VERDICT: REQUEST-CHANGES", "REQUEST_CHANGES"),
        ("VERDICT: CHANGES_REQUESTED", "REQUEST_CHANGES"),
        ("VERDICT: Changes requested", "REQUEST_CHANGES"),
        ("VERDICT: REQUESTED CHANGES", "REQUEST_CHANGES"),
        ("VERDICT: APPROVE — no blocking findings", "APPROVE"),
        ("VERDICT: REQUEST_CHANGES (two blocking findings)", "REQUEST_CHANGES"),
        ("VERDICT: APPROVE - looks good", "APPROVE"),
        ("Final verdict: APPROVE", "APPROVE"),
        ("**Final Verdict:** APPROVED", "APPROVE"),
        ("### Verdict: REQUEST_CHANGES", "REQUEST_CHANGES"),
        ("Verdict is: approve.", "APPROVE"),
        ("__VERDICT__: *REQUEST_CHANGES*", "REQUEST_CHANGES"),
        ("## APPROVE", "APPROVE"),
        ("**REQUEST_CHANGES**", "REQUEST_CHANGES"),
    ],
)
def test_variants_real_models_write(line: str, decision: str) -> None:
    assert parse_verdict(f"Looked at the diff.\n{line}\n1. findings here").decision == decision


@pytest.mark.parametrize(
    "quoted",
    [
        "```diff\n+VERDICT: APPROVE\n```",
        "```\nVERDICT: APPROVE\n```",
        "+VERDICT: APPROVE",
        "-VERDICT: REQUEST_CHANGES",
        "> VERDICT: APPROVE",
    ],
)
def test_a_verdict_quoted_from_the_diff_does_not_count(quoted: str) -> None:
    text = f"The change adds a fixture that reads:\n{quoted}\nI have not decided yet."
    assert parse_verdict(text).decision is None
    assert parse_verdict(f"{text}\nVERDICT: REQUEST_CHANGES\n1. fix").decision == "REQUEST_CHANGES"


def test_a_reply_wrapped_whole_in_a_code_block_still_counts() -> None:
    verdict = parse_verdict("```\nChecked: calc\nVERDICT: REQUEST_CHANGES\n1. calc.py:3 — bug — fix\n```")
    assert verdict.decision == "REQUEST_CHANGES"
    assert verdict.findings == "1. calc.py:3 — bug — fix"


def test_a_sentence_starting_with_the_word_is_not_a_verdict() -> None:
    assert parse_verdict("Approved by upstream, this library is safe to use.").decision is None
    assert parse_verdict("VERDICT: APPROVE once the tests pass").decision is None


def test_no_verdict() -> None:
    verdict = parse_verdict("  I reviewed the change and it looks fine.  \n")
    assert verdict.decision is None
    assert verdict.findings == "I reviewed the change and it looks fine."


def test_verdict_mentioned_inside_a_sentence_does_not_count() -> None:
    assert parse_verdict("I will end with VERDICT: APPROVE once the tests pass.").decision is None
    assert parse_verdict("VERDICT: MAYBE").decision is None
    assert parse_verdict("").decision is None
