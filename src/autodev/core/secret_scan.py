"""Finding every secret in a text: each kind where its anchors are, the environment's own values, and
the merge in which earlier kinds win an overlap.

The kinds themselves are in `secret_patterns`; this module only decides where to try them and which
match wins.

Speed: a regex tried at every position of a megabyte costs a tenth of a second, so none is. Each
kind has literal anchors (`sk-ant-`, `AKIA`, `-----BEGIN`, `password` in the lower-cased text, ...)
found with `str.find`, and its regex (no nested quantifiers, every scan bounded) is tried only where
an anchor is. Five megabytes take well under a second.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from autodev.core.secret_patterns import ASSIGNMENT, NOT_SECRETS, NUMBER, PATTERNS, TRAILING, SecretPattern

ENV_NAME_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD")
MIN_ENV_VALUE = 8
MAX_PEM_BLOCK = 100_000
SHORTEST_SECRET = 8  # `pwd=abcd`: nothing shorter can hold a secret any pattern finds


@dataclass(frozen=True)
class SecretMatch:
    kind: str
    start: int
    end: int


_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_BODY = re.compile(r"(?:(?:\r?\n|\\r\\n|\\n)[A-Za-z0-9+/=]{16,})*")  # when the END line is missing
_AWS_SECRET_NAME = re.compile(r"(?i)aws_?secret_?(?:access_?)?key|secret_?access_?key")
_AWS_SECRET_VALUE = re.compile(r"[A-Za-z0-9/+]{40}")


def _private_keys(text: str) -> Iterator[SecretMatch]:
    """PEM blocks; the next END line is looked up once and reused, so many BEGINs stay linear."""
    position, next_end, ends_left = 0, None, True
    while (begin := text.find("-----BEGIN", position)) != -1:
        header = _PEM_BEGIN.match(text, begin)
        if header is None:
            position = begin + 1
            continue
        if ends_left and (next_end is None or next_end.start() < header.end()):
            next_end = _PEM_END.search(text, header.end())
            ends_left = next_end is not None
        if next_end is not None and next_end.start() >= header.end() and next_end.end() - begin <= MAX_PEM_BLOCK:
            stop = next_end.end()
        else:
            body = _PEM_BODY.match(text, header.end())
            stop = body.end() if body is not None else header.end()
        yield SecretMatch("private_key", begin, stop)
        position = stop


def _anchored(pattern: SecretPattern, text: str, lowered: str) -> Iterator[SecretMatch]:
    haystack = lowered if pattern.folded else text
    for anchor in pattern.anchors:
        position = 0
        while (index := haystack.find(anchor, position)) != -1:
            position = index + 1
            start = pattern.locate(lowered, index, anchor) if pattern.locate else index
            if start is None:
                continue
            match = pattern.regex.match(text, start)
            if match is None or (pattern.valid is not None and not pattern.valid(text, match)):
                continue
            if pattern.group is None:
                group = next(g for g in ("dq", "sq", "bare") if match.group(g) is not None)
                span = match.span(group)
                if group == "bare":
                    span = (span[0], span[0] + len(match.group(group).rstrip(TRAILING)))
            else:
                span = match.span(pattern.group)
            if span[1] > span[0]:
                yield SecretMatch(pattern.kind, *span)
            position = max(position, match.end())


def _assignments(text: str, lowered: str) -> Iterator[SecretMatch]:
    for found in _anchored(ASSIGNMENT, text, lowered):
        if _AWS_SECRET_VALUE.fullmatch(text, found.start, found.end) and _AWS_SECRET_NAME.search(
            text, max(0, found.start - 64), found.start
        ):
            yield SecretMatch("aws_secret_key", found.start, found.end)
        else:
            yield found


# Names whose values are never credentials: what a jail passes on to executed code, and so what
# redaction leaves alone. Every other variable is withheld, and its value redacted when it looks random.
HARMLESS_ENV_NAMES = frozenset(
    (
        "PATH", "HOME", "LANG", "LANGUAGE", "TERM", "COLORTERM", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD",
        "TMPDIR", "TMP", "TEMP", "TZ", "HOSTNAME", "HOSTTYPE", "OSTYPE", "MACHTYPE", "SHLVL", "COLUMNS", "LINES",
        "EDITOR", "VISUAL", "PAGER", "LESS", "LS_COLORS", "DISPLAY", "VIRTUAL_ENV", "CONDA_PREFIX", "CI", "_",
        "NO_COLOR", "FORCE_COLOR", "MAIL", "SSH_AUTH_SOCK",
    )
)  # fmt: skip
HARMLESS_ENV_PREFIXES = ("LC_", "PYTHON", "PYTEST_", "XDG_", "GIT_AUTHOR_", "GIT_COMMITTER_", "AUTODEV_", "UV_", "PIP_")
_RANDOM_RUN = re.compile(r"[A-Za-z0-9]{8,}")

_registered: dict[str, str] = {}


def register_secret(name: str, value: str) -> None:
    """Redact `value` wherever it appears, as `[REDACTED:env:<name>]`, whatever it looks like.

    For values known to be secret that the environment heuristics would miss: what the jail
    withholds from executed code is registered here, so no report or session repeats it.
    """
    if value.strip():
        _registered[name] = value.strip()


def unregister_secret(name: str) -> None:
    _registered.pop(name, None)


def withheld_names(environ: Mapping[str, str]) -> list[str]:
    """The names of `environ` that are not on the allow-list: a jail keeps them from executed code."""
    return [name for name in environ if not harmless_name(name)]


def harmless_name(name: str) -> bool:
    """Whether a variable of this name never holds a credential (PATH, USER, LANG, ...)."""
    upper = name.upper()
    if any(marker in upper for marker in ENV_NAME_MARKERS):
        return False
    return upper in HARMLESS_ENV_NAMES or upper.startswith(HARMLESS_ENV_PREFIXES)


_env_cache: tuple[int, list[tuple[str, str]]] | None = None


def env_values() -> list[tuple[str, str]]:
    """The environment values to redact, recomputed only when the environment or the registry changed.

    Decoding `os.environ` costs far more than redacting a metric record, so the raw mapping (whose
    bytes keys and values cache their hashes) is fingerprinted instead of re-read on every call.
    """
    global _env_cache
    raw = getattr(os.environ, "_data", None)
    fingerprint = hash((tuple(raw.items()), tuple(_registered.items()))) if isinstance(raw, dict) else None
    if fingerprint is not None and _env_cache is not None and _env_cache[0] == fingerprint:
        return _env_cache[1]
    values = _read_env_values()
    if fingerprint is not None:
        _env_cache = (fingerprint, values)
    return values


def _looks_random(value: str) -> bool:
    """A value under a harmless-sounding name is redacted only if it could be a generated credential:
    a run of 8 or more letters and digits mixing both, or 16 or more mixing cases. Words, model names
    (`claude-sonnet-4-5`), numbers, paths and anything with a space (a command, prose) are left alone.
    """
    if any(c.isspace() for c in value):
        return False
    for run in _RANDOM_RUN.findall(value):
        has_digit, has_alpha = any(c.isdigit() for c in run), any(c.isalpha() for c in run)
        if has_digit and has_alpha:
            return True
        if len(run) >= 16 and any(c.isupper() for c in run) and any(c.islower() for c in run):
            return True
    return False


def _read_env_values() -> list[tuple[str, str]]:
    found = dict(_registered)
    for name, value in os.environ.items():
        if name in found or harmless_name(name):
            continue
        value = value.strip()
        if len(value) < MIN_ENV_VALUE or value.startswith(("/", "~")) or value.lower() in NOT_SECRETS:
            continue
        if NUMBER.fullmatch(value):
            continue
        if any(marker in name.upper() for marker in ENV_NAME_MARKERS) or _looks_random(value):
            found[name] = value
    return sorted(found.items(), key=lambda item: (-len(item[1]), item[0]))  # longest first: it wins overlaps


def _environment(text: str, values: list[tuple[str, str]]) -> Iterator[SecretMatch]:
    for name, value in values:
        position = 0
        while (index := text.find(value, position)) != -1:
            yield SecretMatch(f"env:{name}", index, index + len(value))
            position = index + len(value)


def _add_layer(accepted: list[SecretMatch], candidates: Iterator[SecretMatch]) -> list[SecretMatch]:
    """Merge one kind's matches into the accepted ones; the accepted (earlier kinds) win any overlap."""
    found = list(candidates)
    if not found:
        return accepted  # the common case: most text has no secret of most kinds
    layer: list[SecretMatch] = []
    for candidate in sorted(found, key=lambda m: (m.start, -m.end)):
        if layer and candidate.start < layer[-1].end:
            continue  # overlaps a longer or earlier match of the same kind
        layer.append(candidate)
    if not layer:
        return accepted
    kept, index = [], 0
    for candidate in layer:
        while index < len(accepted) and accepted[index].end <= candidate.start:
            index += 1
        if index < len(accepted) and accepted[index].start < candidate.end:
            continue
        kept.append(candidate)
    return sorted(accepted + kept, key=lambda m: m.start) if accepted else kept


def _folded(text: str) -> str:
    """Lower case with every character at its own index (`str.lower` may lengthen a few letters)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return text.encode("ascii", "replace").decode("ascii").lower()


def find_secrets(text: str, *, _env: list[tuple[str, str]] | None = None) -> list[SecretMatch]:
    """Every secret in `text`: sorted by position, never overlapping."""
    if len(text) < SHORTEST_SECRET:
        return []
    lowered = _folded(text)
    accepted = _add_layer([], _private_keys(text))
    for pattern in PATTERNS:
        accepted = _add_layer(accepted, _anchored(pattern, text, lowered))
    accepted = _add_layer(accepted, _environment(text, env_values() if _env is None else _env))
    return _add_layer(accepted, _assignments(text, lowered))
