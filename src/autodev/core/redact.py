"""Secrets redaction: what autodev writes to disk (session files, logs, state.json, metrics) or hands on
in a report never carries a credential the text happened to contain.

Each secret is replaced by `[REDACTED:<kind>]`. For an assignment, a header or a URL only the secret
part goes; the name stays, so `password = "hunter2"` becomes `password = "[REDACTED:secret_assignment]"`
and a reader can still follow what happened.

The patterns, in the order they win when two overlap (example shapes, not real values):

=================== ==========================================================================
kind                shape
=================== ==========================================================================
private_key         a PEM block, `-----BEGIN RSA PRIVATE KEY-----` ... `-----END RSA PRIVATE KEY-----`
                    (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP ... BLOCK; multi-line, or JSON-escaped
                    with literal `\\n`; a block cut off before its END line goes up to its last
                    base64 line)
anthropic_key       `sk-ant-api03-` + 20 or more of `[A-Za-z0-9_-]`
openai_key          `sk-` or `sk-proj-` / `sk-svcacct-` / `sk-admin-` + 20 or more of `[A-Za-z0-9_-]`,
                    with at least one digit and one letter
stripe_key          `sk_live_` / `rk_live_` / `sk_test_` / `rk_test_` + 16 or more alphanumerics;
                    `whsec_` + 24 or more
github_token        `ghp_` / `gho_` / `ghu_` / `ghs_` / `ghr_` + 30 or more alphanumerics;
                    `github_pat_` + 22 or more of `[A-Za-z0-9_]`
slack_token         `xoxb-` / `xoxa-` / `xoxp-` / `xoxr-` / `xoxs-` / `xoxe-` + 10 or more of `[A-Za-z0-9-]`
google_api_key      `AIza` + 35 of `[A-Za-z0-9_-]`
aws_access_key_id   `AKIA` or `ASIA` + 16 of `[A-Z0-9]`
jwt                 `eyJ` + three base64url segments separated by dots, each 10 or more characters
authorization       the credentials in `Authorization: Bearer <token>` / `Basic <b64>` / `Token <t>`
                    (also as a JSON or Python header entry), and `Bearer <token>` anywhere else when
                    the token has 16 or more characters with a digit
url_credentials     the password in `scheme://user:password@host`
env:<NAME>          the exact value of an environment variable whose name contains KEY, TOKEN,
                    SECRET or PASSWORD (8 characters or more), as set when `redact` runs
aws_secret_key      40 of `[A-Za-z0-9/+]` assigned to `aws_secret_access_key`, `AWS_SECRET_KEY`,
                    `SecretAccessKey` ... (an assignment, below, that names it)
secret_assignment   the value assigned to a name ending in password, passwd, passphrase, pwd, pass,
                    secret, token, credential(s), api_key / apikey, access_key, secret_key,
                    private_key, auth_key, client_key, signing_key ... in code and config:
                    `password = "hunter2"`, `PASSWORD: s3cr3t`, `api_key='...'`, `"token": "..."`,
                    `export SECRET_KEY=...`, `password: str = "..."`, `f(token="...")`, `:=`, `=>`
=================== ==========================================================================

What is deliberately *not* a secret_assignment, so ordinary code survives: names where the secret word
is not the last part (`password_field`, `token_count`, `max_tokens`), comparisons (`==`, `!=`), a
value that is code (`form.password`, `get_token()`, `os.environ["X"]`, a bare lower-case identifier),
a number, `None`/`null`/`true`, a type annotation alone (`token: str`), a placeholder (`$TOKEN`,
`${X}`, `{token}`, `<your key>`, `****`), a path, and anything shorter than 4 characters. A bare
identifier-like value (`PASSWORD: hunter`) counts only when the name is upper case (config and
environment style) or the value has a digit (`password = hunter2`). Hex digests, git SHAs and UUIDs
match no pattern.

Speed: a regex tried at every position of a megabyte costs a tenth of a second, so none is. Each
kind has literal anchors (`sk-ant-`, `AKIA`, `-----BEGIN`, `password` in the lower-cased text, ...)
found with `str.find`, and its regex (no nested quantifiers, every scan bounded) is tried only where
an anchor is. Five megabytes take well under a second.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ENV_NAME_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD")
MIN_ENV_VALUE = 8
MIN_ASSIGNED_VALUE = 4
MAX_PEM_BLOCK = 100_000
SHORTEST_SECRET = 8  # `pwd=abcd`: nothing shorter can hold a secret any pattern finds


@dataclass(frozen=True)
class SecretMatch:
    kind: str
    start: int
    end: int


Validator = Callable[[str, "re.Match[str]"], bool]
Locator = Callable[[str, int, str], int | None]  # (lower-cased text, anchor position, anchor) -> match start


@dataclass(frozen=True)
class _Pattern:
    kind: str
    regex: re.Pattern[str]
    anchors: tuple[str, ...]  # every match starts at one of these literals (or `locate` says where)
    group: int | None = 0  # the part of the match that is the secret; None: an assignment's value
    valid: Validator | None = None
    folded: bool = False  # anchors are lower case, looked for in the lower-cased text
    locate: Locator | None = None


# --------------------------------------------------------------------------- validators


def _has_digit_and_letter(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _openai_valid(text: str, match: re.Match[str]) -> bool:
    return _has_digit_and_letter(match.group("body"))


def _authorization_valid(text: str, match: re.Match[str]) -> bool:
    token = match.group(1)
    if re.fullmatch(r"[A-Z_]+", token):
        return False  # a placeholder or a variable's name: `Bearer YOUR_KEY`
    return any(c.isdigit() or c.isupper() or c in "._~+/=-" for c in token)


def _bearer_valid(text: str, match: re.Match[str]) -> bool:
    return _has_digit_and_letter(match.group(1))


_PLACEHOLDER_START = ("$", "%", "{", "<", "[REDACTED")
_NOT_SECRETS = frozenset(
    (
        "none", "null", "nil", "true", "false", "yes", "no", "on", "off", "undefined", "required", "optional",
        "str", "string", "int", "integer", "bytes", "bool", "boolean", "float", "any", "object", "secretstr",
        "list", "dict", "tuple", "self", "cls", "env",
    )
)  # fmt: skip
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_MASKED = frozenset("*xX.-_ ")
_TRAILING = ".!?:"  # ends a sentence, not an unquoted value: `Password: required.`
_AWS_SECRET_NAME = re.compile(r"(?i)aws_?secret_?(?:access_?)?key|secret_?access_?key")
_AWS_SECRET_VALUE = re.compile(r"[A-Za-z0-9/+]{40}")


def _plausible_value(value: str) -> bool:
    """A literal that could be a credential: not empty, not a placeholder, keyword, number or mask."""
    if len(value) < MIN_ASSIGNED_VALUE or value.startswith(_PLACEHOLDER_START):
        return False
    if value.lower() in _NOT_SECRETS or _NUMBER.fullmatch(value):
        return False
    return not set(value) <= _MASKED


def _name_boundary(text: str, start: int) -> bool:
    """The secret word begins a part of the name: `db_password`, `dbPassword`, not `bypass`."""
    if start == 0:
        return True
    before, first = text[start - 1], text[start]
    if not before.isalnum():
        return True
    return (before.islower() or before.isdigit()) and first.isupper()


def _name_start(text: str, start: int) -> int:
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
        start -= 1
    return start


def _names_itself(text: str, match: re.Match[str], value: str) -> bool:
    """`TOKEN = "token"`, `PASSWORD = "password"`: a constant naming the field, not its value."""
    name = text[_name_start(text, match.start("suffix")) : match.end("suffix")]
    folded = value.lower().replace("-", "_")
    return folded in (match.group("suffix").lower(), name.lower())


def _assignment_valid(text: str, match: re.Match[str]) -> bool:
    if not _name_boundary(text, match.start("suffix")):
        return False
    for group in ("dq", "sq"):
        quoted = match.group(group)
        if quoted is not None:
            return _plausible_value(quoted) and not _names_itself(text, match, quoted)
    bare = match.group("bare").rstrip(_TRAILING)
    if not _plausible_value(bare) or _names_itself(text, match, bare):
        return False
    end = match.start("bare") + len(bare)
    if end < len(text) and text[end] in "([":
        return False  # a call or a subscript: code, not a literal
    if bare.startswith(("/", "./", "../", "~/")) or _DOTTED.fullmatch(bare):
        return False
    if _IDENTIFIER.fullmatch(bare) and not any(c.isdigit() for c in bare):
        name_start = _name_start(text, match.start("suffix"))
        name = text[name_start : match.end("suffix")]
        exported = text[max(0, name_start - 7) : name_start] == "export "
        return exported or (name.upper() == name and any(c.isalpha() for c in name))
    return True


def _url_password_valid(text: str, match: re.Match[str]) -> bool:
    password = match.group(1)
    return (
        match.start() > 0
        and text[match.start() - 1].isalpha()  # a scheme: `postgres://`, not a stray `://`
        and not password.startswith(_PLACEHOLDER_START)
        and not set(password) <= _MASKED
    )


# --------------------------------------------------------------------------- patterns

_KEYISH = r"A-Za-z0-9_\-"
_KEY_QUALIFIERS = (
    "api", "access", "secret", "private", "auth", "signing", "encryption", "master", "client", "app",
    "account", "session",
)  # fmt: skip
_SECRET_SUFFIX = (
    r"(?:password|passwd|passphrase|pwd|pass|secret|token|credentials?"
    r"|(?:" + "|".join(_KEY_QUALIFIERS) + r")[_-]?key)"
)
_Q = r"""\\?["']?"""  # an optional quote, possibly JSON-escaped
_AUTH_VALUE = r"([A-Za-z0-9._~+/=-]{8,})"


_QUALIFIER_LENGTHS = sorted({len(q) for q in _KEY_QUALIFIERS})
_QUALIFIER_SET = frozenset(_KEY_QUALIFIERS)


def _key_start(lowered: str, index: int, anchor: str) -> int | None:
    """Where `api_key`, `apikey`, `secret-key` ... begins, given the position of its `key`."""
    end = index - 1 if index > 0 and lowered[index - 1] in "_-" else index
    for length in _QUALIFIER_LENGTHS:
        if length <= end and lowered[end - length : end] in _QUALIFIER_SET:
            return end - length
    return None


def _assignment_start(lowered: str, index: int, anchor: str) -> int | None:
    return _key_start(lowered, index, anchor) if anchor == "key" else index


PATTERNS: tuple[_Pattern, ...] = (
    _Pattern("anthropic_key", re.compile(rf"(?<![{_KEYISH}])sk-ant-[{_KEYISH}]{{20,}}"), ("sk-ant-",)),
    _Pattern(
        "openai_key",
        re.compile(rf"(?<![{_KEYISH}])sk-(?!ant-)(?:proj-|svcacct-|admin-)?(?P<body>[{_KEYISH}]{{20,}})"),
        ("sk-",),
        valid=_openai_valid,
    ),
    _Pattern(
        "stripe_key",
        re.compile(r"(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})"),
        ("sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_"),
    ),
    _Pattern(
        "github_token",
        re.compile(
            r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"
        ),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _Pattern("slack_token", re.compile(r"(?<![A-Za-z0-9-])xox[abeprs]-[A-Za-z0-9-]{10,}"), ("xox",)),
    _Pattern("google_api_key", re.compile(rf"(?<![{_KEYISH}])AIza[{_KEYISH}]{{35}}(?![{_KEYISH}])"), ("AIza",)),
    _Pattern(
        "aws_access_key_id",
        re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        ("AKIA", "ASIA"),
    ),
    _Pattern(
        "jwt",
        re.compile(rf"(?<![{_KEYISH}])eyJ[{_KEYISH}]{{10,}}\.[{_KEYISH}]{{10,}}\.[{_KEYISH}]{{10,}}"),
        ("eyJ",),
    ),
    _Pattern(
        "authorization",
        re.compile(rf"(?i)authorization\b{_Q}[ \t]*[:=][ \t]*{_Q}(?:bearer|basic|token|digest|bot)[ \t]+{_AUTH_VALUE}"),
        ("authorization",),
        group=1,
        valid=_authorization_valid,
        folded=True,
    ),
    _Pattern(
        "authorization",
        re.compile(r"(?<![A-Za-z0-9])Bearer[ \t]+([A-Za-z0-9._~+/-]{16,}=*)"),
        ("Bearer",),
        group=1,
        valid=_bearer_valid,
    ),
    _Pattern(
        "url_credentials",
        re.compile(r"://[^\s:/?#@\"'<>\\]{1,256}:([^\s/?#\"'<>\\]{1,256})@"),
        ("://",),
        group=1,
        valid=_url_password_valid,
    ),
)

# Tried after the environment's own values, so an exact match names its variable.
ASSIGNMENT = _Pattern(
    "secret_assignment",
    re.compile(
        rf"(?i)(?P<suffix>{_SECRET_SUFFIX})(?![A-Za-z0-9]){_Q}"
        r"(?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]{0,40}?)?"  # a type annotation: `password: str = ...`
        r"[ \t]*(?::=|=>|=(?!=)|:(?!:))[ \t]*"
        r"""(?:\\?"(?P<dq>[^"\n]{0,4096}?)\\?"|\\?'(?P<sq>[^'\n]{0,4096}?)\\?'"""
        r"""|(?P<bare>[^\s'"`,;(){}\[\]<>#\\]{1,4096}))"""
    ),
    ("pass", "pwd", "secret", "token", "credential", "key"),
    group=None,
    valid=_assignment_valid,
    folded=True,
    locate=_assignment_start,
)

_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_BODY = re.compile(r"(?:(?:\r?\n|\\r\\n|\\n)[A-Za-z0-9+/=]{16,})*")  # when the END line is missing
_SECRET_NAME = re.compile(r"(?i)(?P<suffix>" + _SECRET_SUFFIX + r")$")


def is_secret_name(name: str) -> bool:
    """A field or variable name whose value is a credential: `password`, `db_password`, `apiKey`."""
    match = _SECRET_NAME.search(name)
    return match is not None and _name_boundary(name, match.start("suffix"))


# --------------------------------------------------------------------------- scanning


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


def _anchored(pattern: _Pattern, text: str, lowered: str) -> Iterator[SecretMatch]:
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
                    span = (span[0], span[0] + len(match.group(group).rstrip(_TRAILING)))
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


_env_cache: tuple[int, list[tuple[str, str]]] | None = None


def _env_values() -> list[tuple[str, str]]:
    """The secret-looking environment values, recomputed only when the environment changed.

    Decoding `os.environ` costs far more than redacting a metric record, so the raw mapping (whose
    bytes keys and values cache their hashes) is fingerprinted instead of re-read on every call.
    """
    global _env_cache
    raw = getattr(os.environ, "_data", None)
    fingerprint = hash(tuple(raw.items())) if isinstance(raw, dict) else None
    if fingerprint is not None and _env_cache is not None and _env_cache[0] == fingerprint:
        return _env_cache[1]
    values = _read_env_values()
    if fingerprint is not None:
        _env_cache = (fingerprint, values)
    return values


def _read_env_values() -> list[tuple[str, str]]:
    found = []
    for name, value in os.environ.items():
        if not any(marker in name.upper() for marker in ENV_NAME_MARKERS):
            continue
        value = value.strip()
        if len(value) < MIN_ENV_VALUE or value.startswith(("/", "~")) or value.lower() in _NOT_SECRETS:
            continue
        if not _NUMBER.fullmatch(value):
            found.append((name, value))
    return sorted(found, key=lambda item: (-len(item[1]), item[0]))  # longest first: it wins overlaps


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
    accepted = _add_layer(accepted, _environment(text, _env_values() if _env is None else _env))
    return _add_layer(accepted, _assignments(text, lowered))


def redact(text: str, *, _env: list[tuple[str, str]] | None = None) -> str:
    """`text` with every secret replaced by `[REDACTED:<kind>]`."""
    matches = find_secrets(text, _env=_env)
    if not matches:
        return text
    parts, position = [], 0
    for match in matches:
        parts.append(text[position : match.start])
        parts.append(f"[REDACTED:{match.kind}]")
        position = match.end
    parts.append(text[position:])
    return "".join(parts)


def redact_data(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, tuples, strings) with its secrets redacted.

    A string under a secret-looking key (`{"password": "hunter2"}`) is redacted whole; other strings go
    through `redact`. Keys, numbers and other values are kept as they are; the input is not modified.
    """
    return _redact_value(value, None, _env_values())


def _redact_value(value: Any, key: str | None, env: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        if key is not None and is_secret_name(key) and _plausible_value(value):
            return "[REDACTED:secret_assignment]"
        return redact(value, _env=env)
    if isinstance(value, Mapping):
        return {k: _redact_value(v, k if isinstance(k, str) else None, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(item, None, env) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(item, None, env) for item in value)
    return value
