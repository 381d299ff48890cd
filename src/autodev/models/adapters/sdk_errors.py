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

from autodev.core.redact import redact
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


CONTEXT_WORDS = ("context", "exceed", "too long", "too many tokens", "maximum")
BASE_URL_HINTS = {"anthropic": "ANTHROPIC_BASE_URL or base_url", "openai": "OPENAI_BASE_URL or base_url"}


class ContextWindowExceeded(ProviderError):
    """The server refused a request that does not fit the model's context window (llama.cpp's
    `exceed_context_size_error`, vLLM's "maximum context length", OpenAI's `context_length_exceeded`).
    Never retried and never re-sent as it is: the same request would be refused again."""


def api_message(exc: Exception) -> str:
    """The server's own words, once: `error.message` (or `message`, `detail`) from the body, else the
    SDK's text without its "Error code: 400 - " prefix (which would repeat the status)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("message", "detail", "error"):
                if isinstance(inner.get(key), str) and inner[key].strip():
                    return str(inner[key]).strip()
        if isinstance(inner, str) and inner.strip():
            return inner.strip()
        if isinstance(body.get("detail"), str):
            return str(body["detail"]).strip()
    if isinstance(body, str) and body.strip():
        return body.strip()
    text = getattr(exc, "message", None) or str(exc)
    if text.startswith("Error code: "):
        text = text.split(" - ", 1)[1] if " - " in text else text
    return text


def _window_of(exc: Exception) -> int | None:
    """llama.cpp names the window in its refusal (`n_ctx`)."""
    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    value = inner.get("n_ctx") if isinstance(inner, dict) else None
    return value if isinstance(value, int) and value > 0 else None


def is_context_overflow(status: int, message: str, code: object = None) -> bool:
    if code in ("context_length_exceeded", "exceed_context_size_error"):
        return True
    lowered = message.lower()
    if status not in (400, 413, 422):
        return False
    return "prompt is too long" in lowered or ("context" in lowered and any(w in lowered for w in CONTEXT_WORDS[1:]))


def _url_of(exc: Exception) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    return redact(str(url)) if url is not None else "the provider's API"


def to_provider_error(exc: Exception, sdk: ModuleType, provider: str) -> ProviderError | None:
    """The normalised error for an SDK exception, or None if `exc` is not one of the SDK's."""
    if isinstance(exc, sdk.APIStatusError):
        status = int(exc.status_code)
        message = api_message(exc)
        body = getattr(exc, "body", None)
        inner = body.get("error", body) if isinstance(body, dict) else None
        code = (inner.get("code") or inner.get("type")) if isinstance(inner, dict) else None
        if is_context_overflow(status, message, code):
            window = _window_of(exc)
            said = f" of {window:,} tokens" if window else ""
            return ContextWindowExceeded(
                f"the request does not fit the model's context window{said} ({provider} API {status}: {message}); "
                "it is not sent again: give the server a larger context (llama-server -c, vLLM --max-model-len, "
                "Ollama num_ctx), or lower max_tokens",
                status=status,
            )
        retryable = status in RETRYABLE_STATUS or status >= 500
        text = f"{provider} API error {status}: {message}"
        if status == 401:
            text += f" ({AUTH_HINTS.get(provider, 'check the API key')})"
        retry_after = parse_retry_after(exc.response.headers) if retryable else None
        return ProviderError(text, status=status, retryable=retryable, retry_after_s=retry_after)
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderError(f"{provider} request to {_url_of(exc)} timed out", retryable=True)
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        why = f" ({cause})" if cause is not None and str(cause) else ""
        return ProviderError(
            f"cannot reach the {provider} API at {_url_of(exc)}{why}: check that the server is running and "
            f"listening there, and the base URL ({BASE_URL_HINTS.get(provider, 'base_url')})",
            retryable=True,
        )
    if isinstance(exc, sdk.APIResponseValidationError | json.JSONDecodeError):
        return ProviderError(f"{provider} returned a malformed response: {exc}", retryable=True)
    return None


def malformed(provider: str, what: str) -> ProviderError:
    """A 200 whose body is not the shape the API promises (a proxy's HTML page, a truncated body)."""
    return ProviderError(f"{provider} returned a malformed response: {what}", retryable=True)
