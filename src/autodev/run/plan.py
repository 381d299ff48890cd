"""Everything a run needs, resolved and validated before anything is written or any token is spent.

`prepare` is shared by `autodev run`, `autodev plan` and `autodev issue`: if it succeeds, the agent
files parsed, the pipeline is a DAG of known agents, every agent has a tier and a model, and the
repository is a git repository with a commit to start from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autodev.agent.skills import Skill, check_agent_skills, load_skills
from autodev.agent.specs import AgentSpec, load_agents, unused_agent_note, unused_agents
from autodev.config.providers import capabilities, require_named_tiers
from autodev.config.settings import CliOverrides, ResolvedModel, Settings, load_settings, resolve_model
from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.run import confinement
from autodev.run.driver import PLAN_AGENT
from autodev.run.gate.environment import TestEnvironment
from autodev.run.gate.environment import detect as detect_tests
from autodev.run.graph import FEATURE_NEEDS, ISSUE_PIPELINE, Pipeline, pipeline_from_config, stages, validate
from autodev.run.publish.request import PublishRequest
from autodev.run.sections import IssueRef
from autodev.run.selection.after_plan import outlook
from autodev.run.selection.decide import Selection, select_agents
from autodev.run.selection.overrides import SelectionOverrides
from autodev.run.selection.policy import SkipPolicy


@dataclass(frozen=True)
class RunPlan:
    request: str
    repo: Path
    base_commit: str
    settings: Settings
    specs: dict[str, AgentSpec]
    pipeline: Pipeline
    models: dict[str, ResolvedModel]
    selection: Selection
    test_command: list[str] | None
    dirty_paths: tuple[str, ...]
    tests: TestEnvironment | None = None  # the environment that runs test_command, and why it was chosen
    skills: dict[str, Skill] = field(default_factory=dict)
    overrides: CliOverrides = field(default_factory=CliOverrides)  # replayed by `autodev resume`
    selection_overrides: SelectionOverrides | None = None
    issue: IssueRef | None = None  # the issue the request came from (`--issue`), kept in state.json
    publish: PublishRequest | None = None  # `--push` / `--pr`, done after the run (kept in `options`)
    approve: tuple[str, ...] = ()  # `--approve plan|diff`: where the run pauses for the user (kept in `options`)

    def after_plan_outlook(self) -> str | None:
        """For `autodev plan`: whether the planner's files may narrow this run (`selection.after_plan`)."""
        return outlook(self.selection) if PLAN_AGENT in self.pipeline.names else None

    def options(self) -> dict[str, object]:
        """The command line's choices, as state.json keeps them for a resume (no secrets: keys live in the env)."""
        chosen = self.selection_overrides or SelectionOverrides()
        publish = {"publish": self.publish.to_json()} if self.publish is not None else {}
        approve = {"approve": list(self.approve)} if self.approve else {}
        return {
            "provider": self.overrides.provider,
            "models": list(self.overrides.models),
            "max_parallel": self.overrides.max_parallel,
            "script": str(Path(self.overrides.script).resolve()) if self.overrides.script else None,
            "sandbox": self.overrides.sandbox,
            "max_cost": self.overrides.max_cost,
            "full": chosen.full,
            "skip": list(chosen.skip),
            "only": list(chosen.only),
            "approved_digest": self.settings.approved_digest(),  # read by Temporal workers only, never on resume
            **publish,
            **approve,
        }

    def stages(self) -> list[list[str]]:
        return stages(self.pipeline)

    def runs(self, agent: str) -> bool:
        return agent not in self.selection.skips

    def unused_agent_notes(self) -> list[str]:
        """A warning for each agent file no pipeline runs (`autodev run` and `autodev issue` alike)."""
        running = pipeline_agents(self.settings, self.pipeline)
        return [unused_agent_note(spec, self.repo) for spec in unused_agents(self.specs, running)]


def pipeline_agents(settings: Settings, pipeline: Pipeline | None = None) -> set[str]:
    """Every agent some pipeline runs: the feature pipeline (`[pipeline]`, or the default), the issue
    drafter's, and `pipeline` (the one at hand)."""
    return {*(settings.pipeline or FEATURE_NEEDS), *ISSUE_PIPELINE.names, *(pipeline.names if pipeline else ())}


def provider_web_search(settings: Settings) -> bool:
    """Whether the configured provider offers a server-side web search, without building it."""
    offered = capabilities(settings)
    return offered is not None and offered.web_search


def clean_request(request: str) -> str:
    text = request.strip()
    if not text:
        raise UserError("the request is empty", hint='say what you want, e.g. autodev run "add a --version flag"')
    return text


def _untrusted_hint(error: UserError, settings: Settings) -> UserError:
    """A pipeline or skill error may come from an agent or skill file left out until approved: say so."""
    if not settings.untrusted_files():
        return error
    left_out = ", ".join(
        sorted(str(path.relative_to(settings.repo or path.anchor)) for path in settings.untrusted_files())
    )
    return UserError(error.message, hint=f"not approved, so left out: {left_out}; run `autodev trust` to review them")


def prepare(
    request: str,
    repo_path: Path,
    cli: CliOverrides = CliOverrides(),
    *,
    pipeline: Pipeline | None = None,
    web_search: bool | None = None,
    selection: SelectionOverrides | None = None,
    require_jail: bool = True,
    approved_digest: str | None = None,
) -> RunPlan:
    """`approved_digest`: the trust approval a Temporal client's plan carried (`check_trust`).
    `web_search`: whether the provider can search the web (None: judge from the settings).
    `selection`: `--full`, `--skip`, `--only`. A `pipeline` passed in (the issue drafter's) runs as it is:
    the request is classified, but no agent is skipped for its change type. `require_jail`: stop here
    (a `UserError`) when the sandbox asked for is not available; only `autodev plan` says it instead."""
    text = clean_request(request)
    repo = gitops.find_repo(repo_path)
    base = gitops.head_commit(repo)
    settings = load_settings(repo, cli, approved_digest=approved_digest)
    if require_jail:
        confinement.require_jail(settings)
    specs = load_agents(repo, skip=settings.untrusted_files())
    skills = load_skills(repo, skip=settings.untrusted_files())
    try:
        chosen = pipeline or pipeline_from_config(settings.pipeline, specs)
        validate(chosen, specs)
        check_agent_skills((specs[name] for name in chosen.names), skills)
    except UserError as exc:
        raise _untrusted_hint(exc, settings) from exc
    models = {name: resolve_model(specs[name], settings) for name in chosen.names}
    require_named_tiers(settings, {resolved.tier for resolved in models.values()})  # a local server's names
    tests = detect_tests(repo, settings.test_command)
    return RunPlan(
        request=text,
        repo=repo,
        base_commit=base,
        settings=settings,
        specs=specs,
        pipeline=chosen,
        models=models,
        selection=select_agents(
            text,
            repo,
            specs,
            chosen.names,
            web_search=provider_web_search(settings) if web_search is None else web_search,
            policy=SkipPolicy.from_config(settings.selection),
            overrides=selection,
            pipeline=chosen,
            apply_policy=pipeline is None,
        ),
        test_command=list(tests.command) if tests else None,
        tests=tests,
        dirty_paths=tuple(gitops.dirty_paths(repo)),
        skills=skills,
        overrides=cli,
        selection_overrides=selection,
    )


def overrides_from_options(options: dict[str, object]) -> tuple[CliOverrides, SelectionOverrides]:
    """Inverse of `RunPlan.options`: what `autodev resume` passes to `prepare` again."""

    def strings(key: str) -> tuple[str, ...]:
        value = options.get(key) or ()
        return tuple(str(item) for item in value) if isinstance(value, list | tuple) else ()

    parallel = options.get("max_parallel")
    provider, script, sandbox = options.get("provider"), options.get("script"), options.get("sandbox")
    max_cost = options.get("max_cost")
    cli = CliOverrides(
        provider=str(provider) if provider else None,
        models=strings("models"),
        max_parallel=parallel if isinstance(parallel, int) else None,
        script=str(script) if script else None,
        sandbox=str(sandbox) if sandbox else None,
        max_cost=float(max_cost) if isinstance(max_cost, int | float) and not isinstance(max_cost, bool) else None,
    )
    return cli, SelectionOverrides(bool(options.get("full")), strings("skip"), strings("only"))
