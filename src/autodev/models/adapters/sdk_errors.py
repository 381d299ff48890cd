"""SDK exceptions -> `ProviderError`, for both official SDKs (they share one exception design).

Retryable: 408, 409, 429, any 5xx (529 "overloaded" included), timeouts, connection errors and
malformed response bodies. Not retryable: 400, 401, 403, 404, 413 — retrying can't fix them, and a
401 retried is just a slower way to say the key is wrong.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from types import ModuleType

from autodev.models import ProviderError

RETRYABLE_STATUS = frozenset({408, 409, 429})
AUTH_HINTS = {"anthropic": "check ANTHROPIC_API_KEY", "openai": "check OPENAI_API_KEY (or the local server's key)"}


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from `retry-after-ms`, `retry-after` (seconds) or `retry-after` (HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return float(raw_ms) / 1000
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())


def to_provider_error(exc: Exception, sdk: ModuleType, provider: str) -> ProviderError | None:
    """The normalised error for an SDK exception, or None if `exc` is not one of the SDK's."""
    if isinstance(exc, sdk.APIStatusError):
        status = int(exc.status_code)
        message = getattr(exc, "api_message", None) or str(exc)
        retryable = status in RETRYABLE_STATUS or status >= 500
        text = f"{provider} API error {status}: {message}"
        if status == 401:
            text += f" ({AUTH_HINTS.get(provider, 'check the API key')})"
        retry_after = parse_retry_after(exc.response.headers) if retryable else None
        return ProviderError(text, status=status, retryable=retryable, retry_after_s=retry_after)
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderError(f"{provider} request timed out", retryable=True)
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderError(f"cannot reach the {provider} API: {exc}", retryable=True)
    if isinstance(exc, sdk.APIResponseValidationError | json.JSONDecodeError):
        return ProviderError(f"{provider} returned a malformed response: {exc}", retryable=True)
    return None


def malformed(provider: str, what: str) -> ProviderError:
    """A 200 whose body is not the shape the API promises (a proxy's HTML page, a truncated body)."""
    return ProviderError(f"{provider} returned a malformed response: {what}", retryable=True)
