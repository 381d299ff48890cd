"""What a repository path is, from its name alone: docs, config, deps, tests or code; and whether it
looks security-sensitive.

Pure functions of a relative path. Anything not recognised is code: the safe answer, because code is
what the full pipeline exists for. Order matters and is documented in `path_kind`.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Literal

PathKind = Literal["docs", "config", "deps", "tests", "code"]
PATH_KINDS: tuple[PathKind, ...] = ("docs", "config", "deps", "tests", "code")

DOC_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".txt", ".adoc", ".asciidoc", ".rdoc", ".org", ".tex"})
MEDIA_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".bmp", ".afdesign"})
# Files named like these are prose whatever their suffix (LICENSE, CHANGELOG, AUTHORS ...).
DOC_STEMS = frozenset(
    {
        "readme", "license", "licence", "copying", "changelog", "changes", "history", "news", "authors",
        "contributors", "contributing", "notice", "code_of_conduct", "security", "maintainers", "funding",
        "citation", "todo", "faq", "support", "governance", "codeowners",
    }
)  # fmt: skip
DOC_DIRS = frozenset({"docs", "doc", "documentation", "changelog.d", "newsfragments", "news", "changes", "man"})
# Packaging, dependency and build files: what users install. Requirement pins are deps though they end in .txt.
CONFIG_TXT = re.compile(r"^([\w-]*requirements|constraints)[\w.-]*\.(txt|in)$")
DEPS_NAMES = frozenset(
    {
        "setup.cfg", "pyproject.toml", "manifest.in", "pipfile", "pipfile.lock", "package.json",
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "cargo.toml",
        "cargo.lock", "go.mod", "go.sum", "gemfile", "gemfile.lock", "composer.json", "composer.lock",
        "environment.yml", "environment.yaml", "meson.build", "cmakelists.txt", "build.gradle", "pom.xml",
    }
)  # fmt: skip
DEPS_DIRS = frozenset({"requirements"})
# Executable build scripts: code (the syntax tree decides) and packaging at once.
DEPS_CODE = frozenset({"setup.py", "build.rs", "hatch_build.py"})
CONFIG_SUFFIXES = frozenset(
    {
        ".toml", ".yaml", ".yml", ".ini", ".cfg", ".conf", ".json", ".jsonc", ".lock", ".in", ".env", ".properties",
        ".cff", ".editorconfig", ".gitignore", ".gitattributes", ".gitmodules", ".dockerignore", ".mailmap",
        ".coveragerc", ".flake8", ".pylintrc", ".python-version", ".nvmrc", ".typed", ".asvhashfile",
    }
)  # fmt: skip
CONFIG_NAMES = frozenset(
    {
        "dockerfile", "containerfile", "makefile", "gnumakefile", "justfile", "procfile", "vagrantfile",
        "codecov.yml", "py.typed", "manifest.in", ".python-version-default",
    }
)  # fmt: skip
CONFIG_DIRS = frozenset({".github", ".gitlab", ".circleci", ".devcontainer", ".vscode", ".idea", ".husky"})
TEST_DIRS = frozenset({"tests", "test", "testing", "spec", "specs", "__tests__", "__snapshots__"})
TEST_FILE = re.compile(r"^(test_.*|.*_test|.*_tests|conftest)\.py$")

# Source files run wherever they live: docs/conf.py runs at every docs build, .github/*.py in CI,
# noxfile.py on the developer's machine, an example is copied by users. They are code even under docs/.
CODE_SUFFIXES = frozenset(
    {
        ".py", ".pyi", ".pyx", ".pxd", ".c", ".h", ".cc", ".cpp", ".hpp", ".rs", ".go", ".js", ".mjs", ".cjs",
        ".jsx", ".ts", ".tsx", ".sh", ".bash", ".ps1", ".rb", ".java", ".kt", ".swift", ".php", ".cs",
    }
)  # fmt: skip

# Words in a path (split at / _ - . and camelCase) that mark code touching a trust boundary.
SECURITY_WORDS = frozenset(
    {
        "auth", "authn", "authz", "authenticate", "authentication", "authorization", "oauth", "login", "logout",
        "password", "passwords", "passwd", "crypto", "cryptography", "cipher", "encrypt", "decrypt", "token",
        "tokens", "secret", "secrets", "credential", "credentials", "permission", "permissions", "acl", "security",
        "sanitize", "sanitizer", "sanitise", "escape", "escaping", "validate", "validator", "validators",
        "validation", "parse", "parser", "parsers", "deserialize", "deserializer", "serializer", "serialization",
        "pickle", "marshal", "network", "http", "https", "socket", "sockets", "url", "urls", "urllib", "request",
        "requests", "ssl", "tls", "cert", "certs", "certificate", "subprocess", "shell", "exec", "sql", "session",
        "sessions", "cookie", "cookies", "jwt", "csrf", "upload", "uploads", "sandbox", "keyring", "signing",
    }
)  # fmt: skip
_WORD_SPLIT = re.compile(r"[/_.\-\s]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def expand_numstat_path(path: str) -> list[str]:
    """`git diff --numstat` writes renames as `old => new` or `dir/{old => new}/x`: both sides count."""
    if " => " not in path:
        return [path]
    brace = re.search(r"\{([^{}]*) => ([^{}]*)\}", path)
    if brace:
        before, after = path[: brace.start()], path[brace.end() :]
        sides = [before + brace.group(1) + after, before + brace.group(2) + after]
    else:
        sides = path.split(" => ", 1)
    return [re.sub(r"/{2,}", "/", side).strip("/") for side in sides if side.strip("/")]


def _parts(path: str) -> tuple[list[str], str, str, str]:
    pure = PurePosixPath(path.replace("\\", "/").strip("/"))
    name = pure.name
    lower = name.lower()
    suffix = pure.suffix.lower() if pure.suffix else (lower if lower.startswith(".") else "")
    stem = lower[: -len(suffix)] if suffix and lower.endswith(suffix) and lower != suffix else lower
    return [p.lower() for p in pure.parts[:-1]], lower, suffix, stem


def path_kind(path: str) -> PathKind:
    """docs | config | deps | tests | code, decided in this order:

    0. packaging, dependency and build files (pyproject.toml, setup.cfg, requirements*.txt, lock files,
       package.json, Cargo.toml, go.mod ...; anything under requirements/) are deps; setup.py is code
       (and `is_packaging` says it is packaging too);
    1. prose by suffix (.md .rst .txt ...) or by name (README, LICENSE, CHANGELOG ...) is docs, except
       requirement pins (see 0);
    2. anything under a test directory (tests/, test/ ...) or named test_*.py, *_test.py, conftest.py is tests;
    3. source files (.py .c .js .sh ...) are code wherever they are (docs/conf.py, .github/x.py, noxfile.py);
    4. anything under a docs directory (docs/, changelog.d/ ...) is docs, and so are images;
    5. config by suffix (.toml .yaml .json .ini .cfg .lock ...), by name (Dockerfile, Makefile, MANIFEST.in
       ...) or under CI directories (.github/ ...) is config;
    6. everything else is code (.py, .pyi, .c, .js, .sh, templates, unknown suffixes, no suffix).
    """
    dirs, name, suffix, stem = _parts(path)
    if CONFIG_TXT.match(name) or name in DEPS_NAMES or suffix == ".lock" or (dirs and dirs[-1] in DEPS_DIRS):
        return "deps"
    if suffix in DOC_SUFFIXES or (stem in DOC_STEMS and suffix in ("", ".txt", ".md", ".rst")):
        return "docs"
    if any(d in TEST_DIRS or d.endswith(("_tests", "-tests")) for d in dirs) or TEST_FILE.match(name):
        return "tests"
    if suffix in CODE_SUFFIXES:
        return "code"
    if any(d in DOC_DIRS for d in dirs) or suffix in MEDIA_SUFFIXES:
        return "docs"
    if suffix in CONFIG_SUFFIXES or name in CONFIG_NAMES or any(d in CONFIG_DIRS for d in dirs):
        return "config"
    if name.startswith(".") and suffix == name:  # other dotfiles: .pre-commit-hooks, .prettierrc ...
        return "config"
    return "code"


def is_packaging(path: str) -> bool:
    """Whether a change to `path` changes what users install: a deps file, or a build script (setup.py)."""
    return path_kind(path) == "deps" or _parts(path)[1] in DEPS_CODE


def path_words(path: str) -> set[str]:
    spaced = _CAMEL.sub(" ", path.replace("\\", "/"))
    return {word.lower() for word in _WORD_SPLIT.split(spaced) if word}


def security_words(path: str) -> list[str]:
    """The security-sensitive words in a path, e.g. `src/app/auth/tokens.py` -> ["auth", "tokens"]."""
    return sorted(path_words(path) & SECURITY_WORDS)
