"""The driver alone: the run's control flow over an executor that only records what it is asked."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import anyio

from autodev.agent.verdicts import parse_verdict
from autodev.run import steps
from autodev.run.driver import Course, Driver, GateRun, Notes
from autodev.run.state import AgentState, Progress, RunState

COURSE = Course(
    needs={"planner": [], "implementer": ["planner"], "reviewer": ["implementer"]},
    build_phase=["planner", "implementer"],
    validation_phase=["reviewer"],
    gate_after="implementer",
    verdict_agents=["reviewer"],
    remediation_target="implementer",
    max_parallel=2,
    max_test_retries=1,
    max_remediation_cycles=2,
)


class Book:
    """An executor of texts: agents hand off what `replies` says, the tests pass as `gates` says."""

    def __init__(self, replies: dict[str, list[str]], gates: list[bool], fail: Sequence[str] = ()) -> None:
        self.ledger = RunState(run_id="r", request="q", repo="/r", worktree="/w", branch="b", base_commit="c")
        self.ledger.agents = {name: AgentState() for name in COURSE.needs}
        self.replies, self.gates, self.fail = replies, gates, set(fail)
        self.calls: list[tuple[str, str | None]] = []
        self.saves = 0
        self.ended: tuple[bool, str | None] | None = None

    def save(self) -> None:
        self.saves += 1

    def note(self, agent: str | None, message: str) -> None:
        self.calls.append(("note", message))

    def blocked(self, name: str, reason: str) -> None:
        self.calls.append(("blocked", name))

    @contextlib.asynccontextmanager
    async def phase(self, names: Sequence[str], label: str, *, review: bool) -> AsyncIterator[None]:
        yield

    async def run_agent(self, name: str, notes: Notes[str] | None) -> bool:
        agent = self.ledger.agents[name]
        agent.start("t")
        self.calls.append((name, steps.rerun_notes(notes.kind, notes.refs) if notes else None))
        ok = name not in self.fail
        handoff = self.replies[name].pop(0) if self.replies.get(name) else "done"
        agent.end(ok, error=None if ok else "boom", model="m", started_at="t", ended_at="t", handoff=handoff)
        return ok

    async def run_gate(self, attempt: int) -> GateRun[str] | None:
        passed = self.gates.pop(0)
        self.calls.append(("gate", "passed" if passed else "failed"))
        return GateRun("passed" if passed else "failed", "Tests FAILED: t::x", "Tests FAILED")

    async def baseline(self) -> None:
        """Nothing to compare: the gates' verdicts are scripted."""

    def decision(self, name: str) -> steps.Decision:
        return parse_verdict(self.ledger.agents[name].handoff or "").decision

    def handoff(self, name: str) -> str | None:
        return self.ledger.agents[name].handoff

    def notes_to_save(self, notes: Notes[str]) -> str | None:
        return steps.remediation_findings(notes.refs)

    def saved_notes(self, text: str) -> Notes[str]:
        return Notes("findings", {"findings": text})

    async def finish(self, done: bool, error: str | None) -> None:
        self.ended = (done, error)


def drive(book: Book) -> Book:
    anyio.run(Driver(COURSE, book).run)
    return book


def test_a_failing_gate_goes_back_to_the_implementer_then_a_change_request_is_remediated() -> None:
    book = drive(
        Book(
            {"reviewer": ["VERDICT: REQUEST_CHANGES\n- fix x", "VERDICT: APPROVE"]},
            gates=[False, True, True],
        )
    )
    names = [name for name, _ in book.calls if name != "note"]
    build, fix, first_round = ["planner", "implementer", "gate"], ["implementer", "gate"], ["reviewer"]
    assert names == [*build, *fix, *first_round, "implementer", "gate", "reviewer"]
    notes = [text for name, text in book.calls if name == "implementer" and text]
    assert "Tests FAILED: t::x" in notes[0] and "- fix x" in notes[1]
    assert book.ended == (True, None)
    assert book.ledger.progress == Progress("finish", 1)


def test_a_failed_dependency_blocks_and_fails_the_run() -> None:
    book = drive(Book({}, gates=[], fail=["planner"]))
    assert ("blocked", "implementer") in book.calls
    assert book.ledger.agents["implementer"].status == "cancelled"
    assert book.ended == (False, "agent failed: planner: boom")
    assert book.ledger.agents["reviewer"].status == "cancelled"


def test_a_verdict_missing_twice_fails_the_run() -> None:
    book = drive(Book({"reviewer": ["no verdict", "still none"]}, gates=[True, True]))
    assert book.ended == (False, f"agent failed: reviewer: {steps.MISSING_VERDICT_TWICE}")
    assert book.ledger.strikes == {"reviewer": 2}


def test_a_resumed_remediation_step_gets_the_findings_it_saved() -> None:
    book = Book({"reviewer": ["VERDICT: APPROVE"]}, gates=[True])
    for agent in book.ledger.agents.values():
        agent.end(True, error=None, model="m", started_at="t", ended_at="t", handoff="done")
    book.ledger.agents["implementer"].reset_for_rerun()
    book.ledger.progress = Progress("remediate", 0, notes="## Findings from reviewer\n\n- fix y")
    drive(book)
    assert book.calls[0][0] == "implementer" and "- fix y" in (book.calls[0][1] or "")
    assert book.ended == (True, None)
