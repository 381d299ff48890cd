"""The kinds of secret that redaction finds: anchored regexes, and the checks that keep ordinary code out.

Apart from the scanning (`secret_scan`) and the replacing (`redact`) because this is the part that
grows: a new kind of credential is one entry in `PATTERNS`, with the literal anchors it starts with.

The kinds, in the order they win when two overlap (example shapes, not real values). Three are found
in `secret_scan` rather than by an entry here: private_key (a PEM block, with or without its END line),
env:<NAME> (the environment's own values) and aws_secret_key (a secret_assignment that names AWS).

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

Left edges: a key is often glued to what precedes it (`x-sk-ant-...`, `KEY_sk-ant-...`, `idAKIA...`,
`x_ghp_...`, a file named `notes-AKIA....txt`), so the kinds whose prefix is distinctive enough
(anthropic_key, github_token, google_api_key, aws_access_key_id) have no left boundary at all, and
`sk_live_` and `xox` only refuse a letter or digit right before them (`task_live_...`). openai_key
and jwt keep their full boundary: their validation can fail after a long scan, and `sk-sk-sk-...`
must stay linear. The right edges and minimum lengths keep `AKIA` in a
word, or `ghp_` with a short tail, out.

What is deliberately *not* a secret_assignment, so ordinary code survives: names where the secret word
is not the last part (`password_field`, `token_count`, `max_tokens`), comparisons (`==`, `!=`), a
value that is code (`form.password`, `get_token()`, `os.environ["X"]`, a bare lower-case identifier),
a number, `None`/`null`/`true`, a type annotation alone (`token: str`), a placeholder (`$TOKEN`,
`${X}`, `{token}`, `<your key>`, `****`), a path, and anything shorter than 4 characters. A bare
identifier-like value (`PASSWORD: hunter`) counts only when the name is upper case (config and
environment style) or the value has a digit (`password = hunter2`). Hex digests, git SHAs and UUIDs
match no pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MIN_ASSIGNED_VALUE = 4

Validator = Callable[[str, "re.Match[str]"], bool]
Locator = Callable[[str, int, str], int | None]  # (lower-cased text, anchor position, anchor) -> match start


@dataclass(frozen=True)
class SecretPattern:
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
NOT_SECRETS = frozenset(
    (
        "none", "null", "nil", "true", "false", "yes", "no", "on", "off", "undefined", "required", "optional",
        "str", "string", "int", "integer", "bytes", "bool", "boolean", "float", "any", "object", "secretstr",
        "list", "dict", "tuple", "self", "cls", "env",
    )
)  # fmt: skip
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_MASKED = frozenset("*xX.-_ ")
TRAILING = ".!?:"  # ends a sentence, not an unquoted value: `Password: required.`


def plausible_value(value: str) -> bool:
    """A literal that could be a credential: not empty, not a placeholder, keyword, number or mask."""
    if len(value) < MIN_ASSIGNED_VALUE or value.startswith(_PLACEHOLDER_START):
        return False
    if value.lower() in NOT_SECRETS or NUMBER.fullmatch(value):
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
            return plausible_value(quoted) and not _names_itself(text, match, quoted)
    bare = match.group("bare").rstrip(TRAILING)
    if not plausible_value(bare) or _names_itself(text, match, bare):
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


PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern("anthropic_key", re.compile(rf"sk-ant-[{_KEYISH}]{{20,}}"), ("sk-ant-",)),
    SecretPattern(
        "openai_key",
        re.compile(rf"(?<![{_KEYISH}])sk-(?!ant-)(?:proj-|svcacct-|admin-)?(?P<body>[{_KEYISH}]{{20,}})"),
        ("sk-",),
        valid=_openai_valid,
    ),
    SecretPattern(
        "stripe_key",
        re.compile(r"(?<![A-Za-z0-9])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})"),
        ("sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_"),
    ),
    SecretPattern(
        "github_token",
        re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    SecretPattern("slack_token", re.compile(r"(?<![A-Za-z0-9])xox[abeprs]-[A-Za-z0-9-]{10,}"), ("xox",)),
    SecretPattern("google_api_key", re.compile(rf"AIza[{_KEYISH}]{{35}}(?![{_KEYISH}])"), ("AIza",)),
    SecretPattern(
        "aws_access_key_id",
        re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        ("AKIA", "ASIA"),
    ),
    SecretPattern(
        "jwt",
        re.compile(rf"(?<![{_KEYISH}])eyJ[{_KEYISH}]{{10,}}\.[{_KEYISH}]{{10,}}\.[{_KEYISH}]{{10,}}"),
        ("eyJ",),
    ),
    SecretPattern(
        "authorization",
        re.compile(rf"(?i)authorization\b{_Q}[ \t]*[:=][ \t]*{_Q}(?:bearer|basic|token|digest|bot)[ \t]+{_AUTH_VALUE}"),
        ("authorization",),
        group=1,
        valid=_authorization_valid,
        folded=True,
    ),
    SecretPattern(
        "authorization",
        re.compile(r"(?<![A-Za-z0-9])Bearer[ \t]+([A-Za-z0-9._~+/-]{16,}=*)"),
        ("Bearer",),
        group=1,
        valid=_bearer_valid,
    ),
    SecretPattern(
        "url_credentials",
        re.compile(r"://[^\s:/?#@\"'<>\\]{1,256}:([^\s/?#\"'<>\\]{1,256})@"),
        ("://",),
        group=1,
        valid=_url_password_valid,
    ),
)

# Tried after the environment's own values, so an exact match names its variable.
ASSIGNMENT = SecretPattern(
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

_SECRET_NAME = re.compile(r"(?i)(?P<suffix>" + _SECRET_SUFFIX + r")$")


def is_secret_name(name: str) -> bool:
    """A field or variable name whose value is a credential: `password`, `db_password`, `apiKey`."""
    match = _SECRET_NAME.search(name)
    return match is not None and _name_boundary(name, match.start("suffix"))
