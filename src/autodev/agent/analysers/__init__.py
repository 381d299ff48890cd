"""Tier-0 analysers: programs that examine a run's change and hand their findings to an agent as facts.

    inp = analysis_input(worktree, base_commit, tests=summary)   # once per validation round
    results = run_analysers("reviewer", inp)                      # diff, ruff, tests
    prompt_block = render(results)                                # capped markdown
    save(results, run_dir / "analysers" / "reviewer.json")        # everything, atomically

Agents and their analysers (`FOR_AGENT`): reviewer — diff, ruff, tests; security-auditor — bandit,
secrets, dependencies; doc-master — public_api, doc_mentions. A tool that is not installed is reported
as `missing` with what to install, never as "no findings".
"""

from autodev.agent.analysers.base import AnalyserResult, AnalysisInput, ChangedFile, Finding, Severity, Status
from autodev.agent.analysers.inputs import analysis_input
from autodev.agent.analysers.registry import (
    ANALYSERS,
    FOR_AGENT,
    AgentKind,
    is_analysed,
    load,
    render,
    run_analysers,
    save,
)

__all__ = [
    "ANALYSERS",
    "FOR_AGENT",
    "AgentKind",
    "AnalyserResult",
    "AnalysisInput",
    "ChangedFile",
    "Finding",
    "Severity",
    "Status",
    "analysis_input",
    "is_analysed",
    "load",
    "render",
    "run_analysers",
    "save",
]
