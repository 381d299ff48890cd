"""Secrets redaction: what autodev writes to disk (session files, logs, state.json, metrics) or hands on
in a report never carries a credential the text happened to contain.

Each secret is replaced by `[REDACTED:<kind>]`. For an assignment, a header or a URL only the secret
part goes; the name stays, so `password = "hunter2"` becomes `password = "[REDACTED:secret_assignment]"`
and a reader can still follow what happened.

What counts as a secret (the table of kinds, and what is deliberately not one) is documented in
`autodev.core.secret_patterns`; how a text is scanned for them, in `autodev.core.secret_scan`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autodev.core.secret_patterns import is_secret_name, plausible_value
from autodev.core.secret_scan import SecretMatch, env_values, find_secrets

__all__ = ["SecretMatch", "find_secrets", "is_secret_name", "redact", "redact_data"]


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
    return _redact_value(value, None, env_values())


def _redact_value(value: Any, key: str | None, env: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        if key is not None and is_secret_name(key) and plausible_value(value):
            return "[REDACTED:secret_assignment]"
        return redact(value, _env=env)
    if isinstance(value, Mapping):
        return {k: _redact_value(v, k if isinstance(k, str) else None, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(item, None, env) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(item, None, env) for item in value)
    return value
