"""The run's handoff budget: all handoffs together stay within `budget_tokens` (8,000 by default).

When a new handoff would take the total over, the largest handoffs are compacted first (cut to what
fits, with a note), while the full text stays in the agent's session file. Pure: a function of the
handoffs, the budget and a token counter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

MIN_HANDOFF_TOKENS = 150  # a handoff is never cut below this: a stub with no content helps nobody


@dataclass
class BudgetReport:
    budget: int
    total: int = 0
    per_agent: dict[str, int] = field(default_factory=dict)
    compacted: dict[str, dict[str, int]] = field(default_factory=dict)  # agent -> {"from", "to"}

    @property
    def over(self) -> bool:
        return self.total > self.budget


def _cut(text: str, tokens: int, target: int, note: str) -> str:
    keep = max(0, len(text) * target // max(tokens, 1) - len(note) - 2)
    return text[:keep].rstrip() + "\n" + note


def fit_handoffs(
    handoffs: Mapping[str, str],
    budget: int,
    count: Callable[[str], int],
    note: Callable[[str, int], str],
) -> tuple[dict[str, str], BudgetReport]:
    """Compact the largest handoffs until the total fits `budget` (or each is at its minimum)."""
    texts = dict(handoffs)
    sizes = {name: count(text) for name, text in texts.items()}
    report = BudgetReport(budget)
    while sum(sizes.values()) > budget:
        name = max(sizes, key=lambda agent: sizes[agent])
        excess = sum(sizes.values()) - budget
        target = max(MIN_HANDOFF_TOKENS, sizes[name] - excess)
        if target >= sizes[name]:
            break  # every handoff is already at its minimum: report the overrun rather than gut them
        before = report.compacted.get(name, {}).get("from", sizes[name])
        texts[name] = _cut(texts[name], sizes[name], target, note(name, target))
        sizes[name] = count(texts[name])
        report.compacted[name] = {"from": before, "to": sizes[name]}
    report.per_agent = sizes
    report.total = sum(sizes.values())
    return texts, report
