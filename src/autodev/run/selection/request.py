"""The request classifier: docs | typo | config | deps | feature, with the reasons, before anything runs.

A pure function of the request text and a lookup of the paths it names (`PathLookup`: does the path
exist in the repository, and is it docs, config, tests or code; a lookup that can also list the
repository's code files, `repo.ListingLookup`, enables the repository guards). Trailers
(Signed-off-by: ...) and literal URLs are dropped first: a link is a reference, not network code. A
conventional prefix the classifier knows (docs:, ci:, build:, fix: ...) decides or adds evidence; an
unknown one is a scope ("sponsors: ...") whose word counts like any other. Then, in order:

1. A security-sensitive signal (auth, login, password, crypto, token, secret, permission,
   sanitising/escaping/validating input, parsing, (de)serialising, network/HTTP/sockets/URLs,
   subprocess/shell/exec, SQL ...) -> feature. Always. Documentation files the request names are taken
   out first (SECURITY.md is a page), and "authors" is a documentation place, not "auth".
2. Any sign of code -> feature: a named code or test file; an identifier (`name`, name(), dotted.name,
   snake_case, __dunder__); words about code or behaviour (function, class, argument, bug, crash,
   exception, implement, refactor, performance, tests, typing ...), including text that lives in code
   files (docstrings, comments, messages): the classifier cannot know such a change stays out of the
   code (the diff re-check can, but it only ever adds work); tools that check or rewrite source
   (linters, formatters, type checkers, pre-commit): updating or satisfying them usually reaches code.
   The repository host's templates (PR template, bug report template ...) are prose whatever they say.
3. A fast path needs evidence in every ask (each comma-separated part of the first line, issue
   references dropped, and each list item after it), at most `MAX_FAST_WORDS` words in all, and then:
   - config or deps evidence with repair words (fix, broken, failing, revert ...) -> feature: what broke
     the build or CI is as often code or a script as configuration;
   - what the repository says (`guards.repository_guard`): its documentation build runs code and the
     request is about the build; its CI runs the project's own code and no configuration file is named;
     a tool or build migration -> feature;
   - packaging words (or a named deps file, a deps: prefix) in a repository that packages with a build
     script that is code (setup.py) -> feature, even beside a documentation place;
   - a named deps file, a deps: prefix, or packaging words without a named documentation place -> deps
     (it keeps the most agents, so it wins);
   - config words or named config files -> config (it keeps more agents than docs, so it wins a tie);
   - a docs: prefix without typo words -> feature: in conventional-commit practice it labels
     documentation *work*, docstrings and the documentation build included (code);
   - a documentation *place* (README, changelog, news fragment, contributors, a named .md/.rst file,
     docs/ ...) with typo words -> typo; without -> docs;
   - "docs", "documentation", "clarify", a typo ... with no place -> feature: documentation files, or
     docstrings in code? The words alone cannot say.
4. No evidence either way -> feature.

General signals only: no project's vocabulary is built in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from autodev.config.selection import FAST_PATHS
from autodev.run.selection.asks import asks_of
from autodev.run.selection.guards import repository_guard
from autodev.run.selection.paths import PATH_KINDS, PathKind, path_kind

MAX_FAST_WORDS = 60
SECURITY_SENSITIVE = "security-sensitive"  # how the reason of a request classed by rule 1 begins


@dataclass(frozen=True)
class PathFacts:
    exists: bool
    kind: PathKind
    resolved: str | None = None  # the repository path it was found at, when that differs


PathLookup = Callable[[str], PathFacts | None]


@dataclass(frozen=True)
class RequestClass:
    change_type: str
    reasons: tuple[str, ...]

    @property
    def fast_path(self) -> bool:
        return self.change_type in FAST_PATHS


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(patterns) + r")(?![\w-])", re.IGNORECASE)


SECURITY = _words(
    r"auth(?!ors?\b|ored\b|orship\b)\w*",  # not "authors": a documentation place
    r"oauth\w*", r"log(?:in|out|ins|ging in)", r"sign(?:-| )?(?:in|on)", r"passw\w*", r"passphrase\w*",
    r"crypt\w*", r"\w*crypt(?:ion|ed|s)?", r"cipher\w*", r"hash(?:ing|es)? passwords?", r"tokens?", r"tokeni[sz]\w*",
    r"secrets?", r"credentials?", r"permissions?", r"privileges?", r"acls?", r"rbac", r"security", r"secure\w*",
    r"insecure", r"vulnerab\w*", r"cves?", r"exploit\w*", r"inject\w*", r"xss", r"csrf", r"ssrf", r"sanitis\w*",
    r"sanitiz\w*", r"escap\w*", r"unescap\w*", r"validat\w*", r"untrusted", r"user input",
    r"pars(?:e|es|ed|er|ers|ing)",
    r"\w*serializ\w*", r"\w*serialis\w*", r"pickl\w*", r"unmarshal\w*", r"marshal\w*", r"yaml\.load", r"network\w*",
    r"https?", r"sockets?", r"urls?", r"uris?", r"urllib\w*", r"requests?\.\w+", r"websockets?", r"ssl", r"tls",
    r"certificates?", r"certs?", r"subprocess\w*", r"shell\w*", r"exec\w*", r"eval", r"os\.system", r"popen",
    r"sql\w*", r"sessions?", r"cookies?", r"jwt", r"uploads?", r"sandbox\w*", r"cors", r"keys?ring", r"api keys?",
    r"private keys?", r"signatures? verif\w*",
)  # fmt: skip
CODE_WORDS = _words(
    r"functions?", r"methods?", r"class(?:es)?", r"modules?", r"packages?", r"arguments?", r"args?", r"kwargs?",
    r"parameters?", r"params?", r"attributes?", r"propert(?:y|ies)", r"fields?", r"variables?", r"constants?",
    r"signatures?", r"decorators?", r"imports?", r"api", r"apis", r"bugs?", r"bugfix\w*", r"crash\w*",
    r"regressions?", r"exceptions?", r"errors?", r"warnings?", r"raises?", r"raising", r"returns?", r"traceback\w*",
    r"implement\w*", r"refactor\w*", r"rewrite", r"rewrit\w*", r"deprecat\w*", r"optimi[sz]\w*", r"performance",
    r"perf", r"speed\w*", r"faster", r"slow\w*", r"memory", r"leaks?", r"cach\w*", r"async\w*", r"threads?\w*",
    r"behaviou?rs?", r"features?", r"support\w*", r"handl\w*", r"tests?", r"testing", r"pytest", r"unittest\w*",
    r"doctests?", r"coverage", r"fixtures?", r"mocks?", r"typing", r"types?", r"typed", r"type hints?",
    r"annotations?", r"annotate\w*", r"stubs?", r"generics?", r"protocols?", r"docstrings?", r"comments?",
    r"messages?", r"help text", r"output", r"render\w*", r"logic", r"algorithm\w*", r"code", r"codebase",
    r"backport\w*", r"port", r"compat\w*", r"callbacks?", r"hooks?", r"endpoints?", r"cli", r"commands?",
    r"flags?", r"options?", r"defaults?", r"config option", r"data ?class\w*", r"objects?", r"instances?",
    r"subclass\w*", r"inherit\w*", r"override\w*", r"overload\w*", r"recursion", r"recursive", r"none", r"null",
    r"unicode", r"encoding",
)  # fmt: skip
# The repository host's forms (.github/ISSUE_TEMPLATE/bug_report.md ...): prose, whatever words they hold.
TEMPLATES = r"(?:pr|pull request|issue|bug(?: report)?|feature(?: request)?|release|change(?:log)?) templates?"
# Where documentation lives: naming one of these says the change is in prose files.
DOC_PLACES = _words(
    r"readme\w*", r"changelogs?", r"change ?log entr(?:y|ies)", r"news ?fragments?", r"newsfragments?",
    r"release notes?", r"tutorials?", r"(?:user|style|contributor|developer|migration) guides?", r"how-?tos?",
    r"faqs?", r"contributing", r"contributors?", r"authors", r"maintainers", r"licen[cs]es?", r"sponsors?",
    r"badges?", r"sphinx", r"mkdocs", r"wiki", r"code of conduct", TEMPLATES, r"logos?",
    r"docs (?:site|folder|directory)", r"man ?pages?",
)  # fmt: skip
# Documentation intent without a place: docs files, or docstrings in code? The words alone cannot say.
DOC_INTENT = _words(
    r"docs?", r"documentation", r"document(?:ed|ing|s)?", r"wording", r"phrasing", r"rephras\w*", r"reword\w*",
    r"clarif\w*", r"prose", r"translations?", r"translat\w*", r"copyright",
)  # fmt: skip
TYPO_WORDS = _words(
    r"typos?", r"typographical", r"spelling", r"spelled", r"spelt", r"misspell\w*", r"grammar\w*",
    r"punctuation", r"capitali[sz]ation", r"capitali[sz]e", r"broken links?", r"dead links?",
)  # fmt: skip
# Tools that check or rewrite source: updating or satisfying them usually reaches the code itself.
SOURCE_TOOLS = _words(
    r"linters?", r"lint\w*", r"formatt\w*", r"reformat\w*", r"ruff", r"flake8", r"pyflakes", r"pycodestyle",
    r"isort", r"black", r"autopep8", r"yapf", r"pylint", r"mypy", r"pyright", r"pyre", r"pytype", r"type[- ]?check\w*",
    r"codespell", r"pre-?commit", r"pyupgrade", r"eslint", r"prettier", r"clippy", r"rustfmt", r"gofmt",
    r"static analysis",
)  # fmt: skip
CONFIG_WORDS = _words(
    r"ci", r"continuous integration", r"workflows?", r"github actions?", r"actions/\S+", r"tox", r"nox",
    r"configs?", r"configuration", r"readthedocs", r"rtd", r"docker\w*", r"makefile",
    r"gitignore", r"gitattributes", r"editorconfig", r"codecov", r"python-version", r"gh-?actions?",
    r"dependabot", r"renovate",
)  # fmt: skip
# Packaging, dependencies and the build: what users install (the deps class).
DEPS_WORDS = _words(
    r"lock ?files?", r"lockfiles?", r"dependenc(?:y|ies)", r"deps", r"requirements", r"pyproject", r"setup\.cfg",
    r"build system", r"build backend", r"packaging", r"classifiers", r"manifest", r"hatch\w*", r"poetry",
    r"setuptools", r"pip", r"wheels?", r"sdist", r"flit", r"pdm", r"uv", r"requires-python", r"pypi",
    r"npm", r"yarn", r"cargo",
)  # fmt: skip
# Version verbs: a dependency's version, unless the request names configuration (a CI action's version).
VERSION_VERBS = _words(r"pins?", r"pinn\w*", r"unpin\w*", r"bump\w*")
# Repairing the build or CI: what broke is as often the code or a script as the configuration.
REPAIR_WORDS = _words(
    r"fix\w*", r"hotfix\w*", r"repair\w*", r"broken", r"break\w*", r"fail\w*", r"workarounds?", r"revert\w*",
)  # fmt: skip
# Build scripts that are code: in a repository that has one, a packaging change edits code.
BUILD_SCRIPTS = ("setup.py",)
# Conventional-commit style prefixes ("docs: ...", "ci(deps): ...").
PREFIX = re.compile(r"^\s*\[?([a-z]+)(?:\([^)]*\))?\]?!?:", re.IGNORECASE)
PREFIX_CLASS = {
    "docs": "docs", "doc": "docs", "ci": "config", "build": "deps", "deps": "deps",
    "feat": "feature", "feature": "feature", "fix": "feature", "bugfix": "feature", "refactor": "feature",
    "perf": "feature", "test": "feature", "tests": "feature", "style": "feature", "revert": "feature",
}  # fmt: skip

_SUFFIXES = (
    "py|pyi|pyx|pxd|c|h|cc|cpp|hpp|rs|go|js|jsx|ts|tsx|java|kt|rb|php|cs|swift|sh|bash|zsh|ps1|sql|html|htm|css|scss"
    "|jinja|j2|md|markdown|rst|txt|adoc|toml|yaml|yml|ini|cfg|conf|json|lock|in|svg|png|ipynb"
)
FILE_TOKEN = re.compile(r"(?<![\w/.-])((?:\.?[\w-]+/)*\.?[\w.-]*?[\w-]\.(?:" + _SUFFIXES + r"))(?![\w/-])", re.I)
DIR_TOKEN = re.compile(r"(?<![\w/.-])((?:\.?[\w-]+/)+[\w-]*/?)(?![\w./-])")
BARE_FILES = re.compile(
    r"(?<![\w./-])(README|LICENSE|LICENCE|CHANGELOG|CHANGES|CONTRIBUTING|AUTHORS|CONTRIBUTORS|NOTICE|"
    r"Makefile|Dockerfile|Justfile|Procfile)(?![\w-])"
)
IDENTIFIER = re.compile(
    r"`[^`\n]+`"  # `anything in backticks`
    r"|(?<![\w.])[A-Za-z_]\w*\(\)?"  # name( or name()
    r"|(?<![\w.])__\w+__"  # __dunder__
    r"|(?<![\w./-])[a-z]+_[a-z0-9_]+"  # snake_case
    r"|(?<![\w/.-])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?![\w/-])",  # dotted.name
)
NOT_IDENTIFIER = re.compile(r"^(e\.g|i\.e|etc|vs|a\.k\.a|n\.b)\.?$|\.(com|org|net|io|dev|ci|app|html?)$", re.I)
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+|\bwww\.\S+", re.IGNORECASE)
TRAILER = re.compile(
    r"^\s*(?:signed-off-by|co-authored-by|reviewed-by|acked-by|tested-by|reported-by|suggested-by|helped-by):.*$",
    re.IGNORECASE | re.MULTILINE,
)
NEUTRAL_PHRASES = _words(TEMPLATES, r"code of conduct", r"code reviews?", r"code owners?", r"codeowners")
WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")


def _find(pattern: re.Pattern[str], text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(text)))


def _named_paths(text: str, lookup: PathLookup | None) -> list[tuple[str, PathFacts | None]]:
    """Paths the request names, with what the repository says about each. A slash-separated word with
    no file suffix ("and/or", "actions/checkout") counts only if it ends in "/" or the repository has it."""
    named: dict[str, PathFacts | None] = {}
    for match in FILE_TOKEN.finditer(text):
        path = match.group(1).removeprefix("./")
        if not re.fullmatch(r"[\d.]+", path):
            named.setdefault(path, lookup(path) if lookup else None)
    for match in BARE_FILES.finditer(text):
        named.setdefault(match.group(1), lookup(match.group(1)) if lookup else None)
    for match in DIR_TOKEN.finditer(text):
        path = match.group(1)
        if any(path in other for other in named):
            continue
        facts = lookup(path.rstrip("/")) if lookup else None
        if facts is not None and facts.exists:
            named[path] = facts
        elif path.endswith("/"):
            named[path] = PathFacts(False, path_kind(path + "file"))
    return list(named.items())


def _identifiers(text: str) -> list[str]:
    """Code identifiers in `text` (file paths already removed from it)."""
    out: list[str] = []
    for match in IDENTIFIER.finditer(text):
        token = match.group(0)
        bare = token.strip("`").rstrip("()").strip()
        if not bare or NOT_IDENTIFIER.search(bare) or re.fullmatch(r"[\d.\s]+", bare):
            continue
        if token.startswith("`") and (FILE_TOKEN.fullmatch(bare) or BARE_FILES.fullmatch(bare)):
            continue
        if token.endswith("(") and not re.match(r"[\w)*'\"]", text[match.end() : match.end() + 1]):
            continue  # "name (" or "name(" then a space: prose, not a call
        out.append(token)
    return list(dict.fromkeys(out))


def describe(path: str, facts: PathFacts | None) -> str:
    if facts is None:
        return f"{path} ({path_kind(path)}, by its name)"
    where = f" at {facts.resolved}" if facts.resolved and facts.resolved != path else ""
    return f"{path} ({facts.kind}, {'exists' + where if facts.exists else 'not in the repository yet'})"


def _has_fast_evidence(ask: str, fast_paths: set[str], *, headline: bool) -> bool:
    prefix = PREFIX.match(ask) if headline else None
    if prefix and PREFIX_CLASS.get(prefix.group(1).lower()) in ("docs", "config", "deps"):
        return True
    if any(
        pattern.search(ask) for pattern in (TYPO_WORDS, DOC_PLACES, DOC_INTENT, CONFIG_WORDS, DEPS_WORDS, VERSION_VERBS)
    ):
        return True
    return any(path in ask for path in fast_paths)


def _kind(path: str, facts: PathFacts | None) -> PathKind:
    return facts.kind if facts is not None else path_kind(path)


def _strip_paths(text: str) -> str:
    return BARE_FILES.sub(" ", DIR_TOKEN.sub(" ", FILE_TOKEN.sub(" ", text)))


def _strip_doc_paths(text: str, lookup: PathLookup | None) -> str:
    """The text without the documentation files it names: SECURITY.md is a page, not security code."""
    for path, facts in _named_paths(text, lookup):
        if _kind(path, facts) == "docs":
            text = text.replace(path, " ")
    return text


def _build_script(lookup: PathLookup) -> str | None:
    for name in BUILD_SCRIPTS:
        facts = lookup(name)
        if facts is not None and facts.exists and (facts.resolved or name) == name:
            return name
    return None


def classify_request(text: str, lookup: PathLookup | None = None) -> RequestClass:
    """docs | typo | config | feature, with the reasons (see the module docstring for the rules)."""
    text = TRAILER.sub(" ", text)
    text = URL.sub(" ", text)  # a link is a reference, not network code: its words would mislead
    security = _find(SECURITY, _strip_doc_paths(text, lookup))  # SECURITY.md is a page, not security code
    if security:
        return RequestClass(
            "feature",
            (f"{SECURITY_SENSITIVE}: {', '.join(security[:5])}: no fast path, and the security audit always runs",),
        )

    named = _named_paths(text, lookup)
    kinds: dict[PathKind, list[str]] = {kind: [] for kind in PATH_KINDS}
    for path, facts in named:
        kinds[_kind(path, facts)].append(describe(path, facts))
    prefix = PREFIX.match(text)
    prefix_name = prefix.group(1).lower() if prefix else ""
    prefix_class = PREFIX_CLASS.get(prefix_name)
    # an unknown prefix is a scope ("sponsors: add ...", "readme: ..."): its word is part of the request
    body = text[prefix.end() :] if prefix and prefix_class else text
    prose = NEUTRAL_PHRASES.sub(" ", _strip_paths(body))  # what is left once the named paths are out

    code: list[str] = []
    if kinds["code"] or kinds["tests"]:
        code.append(f"names code or tests: {', '.join((kinds['code'] + kinds['tests'])[:4])}")
    if identifiers := _identifiers(prose):
        code.append(f"names identifiers: {', '.join(identifiers[:4])}")
    if code_words := _find(CODE_WORDS, prose):
        code.append(f"code words: {', '.join(code_words[:5])}")
    if tools := _find(SOURCE_TOOLS, prose):
        code.append(f"tools that check or rewrite source (such changes usually reach code): {', '.join(tools[:4])}")
    if prefix_class == "feature":
        code.append(f"'{prefix_name}:' prefix")
    if code:
        return RequestClass("feature", tuple(code))

    reasons: list[str] = []
    typo, places, intent = _find(TYPO_WORDS, body), _find(DOC_PLACES, body), _find(DOC_INTENT, body)
    config, deps, versions = _find(CONFIG_WORDS, body), _find(DEPS_WORDS, body), _find(VERSION_VERBS, body)
    for kind in ("docs", "config", "deps"):
        if kinds[kind]:
            reasons.append(f"names {kind}: {', '.join(kinds[kind][:4])}")
    for label, found in (
        ("typo", typo),
        ("docs places", places),
        ("docs", intent),
        ("config", config),
        ("deps", deps),
        ("version", versions),
    ):
        if found:
            reasons.append(f"{label} words: {', '.join(found[:4])}")
    if prefix_class in ("docs", "config", "deps"):
        reasons.append(f"'{prefix_name}:' prefix")
    is_config = bool(kinds["config"] or config or prefix_class == "config")
    in_docs = bool(kinds["docs"] or places)
    # Packaging words beside a named documentation place describe what the prose says ("how to install
    # from PyPI"): the docs path; a named deps file or a deps: prefix is packaging wherever it appears.
    deps_said = bool(deps or (versions and not is_config)) and not in_docs
    is_deps = bool(kinds["deps"] or prefix_class == "deps" or deps_said)
    if not reasons:
        return RequestClass("feature", ("no docs, typo or config signal: unsure, so feature (the full pipeline)",))
    words = len(WORD.findall(text))
    if words > MAX_FAST_WORDS:
        return RequestClass("feature", (*reasons, f"{words} words: too long for a fast path (> {MAX_FAST_WORDS})"))
    fast_paths = {path for path, facts in named if _kind(path, facts) in ("docs", "config", "deps")}
    for index, ask in enumerate(asks_of(text)):
        if not _has_fast_evidence(ask, fast_paths, headline=index == 0):
            what = "the first line" if index == 0 else "a listed item"
            return RequestClass("feature", (*reasons, f"{what}, {ask[:60]!r}, has no docs, typo or config sign"))
    headline = asks_of(body)[0] if asks_of(body) else ""
    if (is_deps or is_config) and (repair := _find(REPAIR_WORDS, headline)):
        why = f"repair words ({', '.join(repair[:3])}) on the build or CI: what broke may be code, so feature"
        return RequestClass("feature", (*reasons, why))
    guard = repository_guard(
        body,
        headline,
        lookup,
        docs_said=in_docs or bool(intent),
        config_said=is_config,
        config_named=bool(kinds["config"]),
        packaging_said=is_deps,
    )
    if guard:
        return RequestClass("feature", (*reasons, guard))
    if (is_deps or deps) and lookup is not None and (script := _build_script(lookup)):
        why = f"the repository packages with {script}, which is code: a packaging change here edits code"
        return RequestClass("feature", (*reasons, why))
    if is_deps:
        return RequestClass("deps", (*reasons, "no sign of code: the deps path (security audit and test gate)"))
    if is_config:
        return RequestClass("config", (*reasons, "no sign of code: the config path"))
    if prefix_class == "docs" and not typo:
        why = (
            f"'{prefix_name}:' marks documentation work, which in practice includes docstrings and the "
            "documentation build (code); only a typo fix keeps a fast path with it"
        )
        return RequestClass("feature", (*reasons, why))
    if in_docs and typo:
        return RequestClass("typo", (*reasons, "no sign of code: a typo in documentation files"))
    if in_docs:
        return RequestClass("docs", (*reasons, "no sign of code: the docs path"))
    return RequestClass(
        "feature",
        (*reasons, "docs or a typo, but where? documentation files or docstrings in code: unsure, so feature"),
    )
