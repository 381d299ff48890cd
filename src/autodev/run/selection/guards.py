"""What the repository says about a fast-path candidate: signals that send it back to the full pipeline.

The request classifier (`request.classify_request`) finds a request with documentation, configuration or
packaging evidence and no sign of code. Whether such a change stays out of the code also depends on the
repository: in one whose documentation build is Python (Sphinx's docs/conf.py, MkDocs plugins), "use the
new theme" edits code; in one whose CI calls the project's own scripts (.github/*.py, scripts/*.py), "run
the benchmark job on every push" may edit them. These checks ask the repository's file listing, not a
vocabulary of one project:

1. the documentation build runs code here, and the request is about the build (its theme, extensions,
   search, link checking, Read the Docs; or, beside a documentation word, building, generating,
   converting pages to another format, or the build's dependencies);
2. CI runs code of the project's own (.github/*.py, scripts/ ...), the request names CI without naming a
   configuration file, and either names one of those scripts by its compound name ("the link-check
   job" and scripts/link_check.py) or does not say what it changes ("minor CI improvements");
3. a migration of a tool or the build (replace, migrate, switch, convert, move to/from) reaches whatever
   calls the tool, whatever the repository.

Each returns the reason, shown by `autodev plan`; none ever turns a feature into a fast path.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Protocol, runtime_checkable


@runtime_checkable
class CodeListing(Protocol):
    """A path lookup that can also list the repository's code files (`repo.ListingLookup`)."""

    def code_paths(self) -> Collection[str]: ...


def words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(patterns) + r")(?![\w-])", re.IGNORECASE)


def find(pattern: re.Pattern[str], text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(text)))


# What a documentation build's configuration holds (Sphinx conf.py, MkDocs plugins): asking for these asks
# for a change of that configuration.
DOCS_TOOLING = words(
    r"rtd", r"readthedocs", r"sphinx", r"themes?", r"extensions?", r"plugins?", r"linkcheck\w*", r"anchors?",
    r"search\w*", r"copyright", r"intersphinx", r"toctree", r"autodoc\w*",
)  # fmt: skip
# Building, generating, converting (the build must learn the new format) or the build's dependencies, said
# of documentation ("build the API page from the schema", "convert the guide to Markdown").
DOCS_BUILDING = words(r"build\w*", r"generat\w*", r"convert\w*", r"dependenc(?:y|ies)", r"requirements")
MIGRATION_WORDS = words(r"replac\w*", r"migrat\w*", r"switch\w*", r"convert\w*", r"mov(?:e|es|ed|ing) (?:to|from)")
DOC_BUILD_DIRS = frozenset({"docs", "doc", "documentation"})
CI_CODE_DIRS = frozenset({".github", ".gitlab", ".circleci", "ci", "scripts", "script"})


# A request that does not say what it changes ("minor CI improvements").
VAGUE = words(
    r"tweak\w*", r"improv\w*", r"minor", r"small", r"clean ?ups?", r"misc\w*", r"various", r"polish\w*",
    r"tid(?:y|ies|ied)", r"housekeeping", r"maintenance",
)  # fmt: skip
# A compound name (diff-shades, check_links): how a request names a tool or a script.
COMPOUND = re.compile(r"(?<![\w./-])[a-z][a-z0-9]+(?:[-_][a-z0-9]+)+(?![\w/-])")


def scripts_named(body: str, paths: Collection[str]) -> list[str]:
    """The paths among `paths` that a compound name of the request is part of ("run the link-check job"
    names scripts/link_check.py): `-` and `_` are the same character here."""
    names = {name.replace("-", "_") for name in COMPOUND.findall(body.lower())}
    return [path for path in paths if any(name in path.lower().replace("-", "_") for name in names)]


def code_in(lookup: object, dirs: frozenset[str]) -> list[str]:
    """The repository's code files with a directory in `dirs` (docs/conf.py for {"docs"}), when the lookup
    can list them; [] when it cannot (a plain callable: the checks that need a listing do not apply)."""
    if not isinstance(lookup, CodeListing):
        return []
    return [path for path in lookup.code_paths() if dirs & {part.lower() for part in path.split("/")[:-1]}]


def repository_guard(
    body: str,
    headline: str,
    lookup: object,
    *,
    docs_said: bool,
    config_said: bool,
    config_named: bool,
    packaging_said: bool,
) -> str | None:
    """Why a docs, config or deps candidate is a feature after all in this repository, or None.

    `body` is the request without its conventional prefix, `headline` its first ask; `docs_said` says it
    names a documentation place or intent, `config_said` CI or configuration, `config_named` a
    configuration file, `packaging_said` packaging."""
    tooling = find(DOCS_TOOLING, body) + (find(DOCS_BUILDING, body) if docs_said else [])
    if tooling and (built := code_in(lookup, DOC_BUILD_DIRS)):
        return (
            f"documentation build words ({', '.join(tooling[:3])}), and the documentation build runs code here "
            f"({', '.join(built[:2])}): feature"
        )
    if config_said and not config_named and (helpers := code_in(lookup, CI_CODE_DIRS)):
        if scripts := scripts_named(body, helpers):
            return f"the request names the project's own CI code ({', '.join(scripts[:2])}): feature"
        if vague := find(VAGUE, body):
            return (
                f"CI runs the project's own code here ({', '.join(helpers[:2])}) and the request says only "
                f"'{vague[0]}', no configuration file: feature"
            )
    if (config_said or packaging_said) and (moves := find(MIGRATION_WORDS, headline)):
        return f"a migration ({', '.join(moves[:2])}) reaches whatever calls the tool: feature"
    return None
