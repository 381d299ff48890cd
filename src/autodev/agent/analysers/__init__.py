"""Tier-0 analysers: programs that examine a run's change and hand their findings to an agent as facts.

    inp = analysis_input(worktree, base_commit, tests=summary)   # once per validation round
    results = run_analysers(spec.facts, inp)                      # e.g. diff, ruff, tests
    prompt_block = render(results)                                # capped markdown
    save(results, run_dir / "analysers" / f"{spec.name}.json")    # everything, atomically

An agent's file names the analysers it receives (`facts:`, docs/agents.md); the bundled reviewer gets
diff, ruff, tests; the security-auditor bandit, secrets, dependencies; the doc-master public_api,
doc_mentions. A tool that is not installed is reported as `missing` with what to install, never as
"no findings".
"""

from autodev.agent.analysers.base import AnalyserResult, AnalysisInput, ChangedFile, Finding, Severity, Status
from autodev.agent.analysers.inputs import analysis_input
from autodev.agent.analysers.registry import (
    ANALYSERS,
    load,
    render,
    run_analysers,
    save,
)

__all__ = [
    "ANALYSERS",
    "AnalyserResult",
    "AnalysisInput",
    "ChangedFile",
    "Finding",
    "Severity",
    "Status",
    "analysis_input",
    "load",
    "render",
    "run_analysers",
    "save",
]
