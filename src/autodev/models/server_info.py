"""What a model server says about itself: the models it serves, and each one's context window.

A local server (Ollama, vLLM, llama.cpp, LM Studio) serves whatever models were pulled into it, under
names only it knows, with a context window set when it was started. The official APIs' defaults
(gpt-5-nano, claude-haiku-...) mean nothing there, and a window guessed wrong means either replies
cut short or requests the server refuses. So autodev asks the server, where it says:

- `GET {base}/models` (OpenAI-compatible; Anthropic's API has the same path): the model ids, and on
  some servers each entry's window: vLLM's `max_model_len`, LM Studio's and OpenRouter's
  `context_length` / `max_context_length` / `loaded_context_length`, others' `context_window`;
- `GET {root}/props` (llama.cpp's `llama-server`): `default_generation_settings.n_ctx`, the window
  each slot really has (not the model's training length);
- `GET {root}/api/v0/models` (LM Studio's own API): `loaded_context_length`, else `max_context_length`;
- Ollama: `GET {root}/api/ps`'s `context_length` for a loaded model (what it runs with), else
  `POST {root}/api/show`: a `num_ctx` in the model's `parameters`, else its `model_info`'s
  `<arch>.context_length` (the trained length; Ollama may run it with less, see docs/local-models.md).

Each request is small, has a short timeout, and a failure only means "not said": nothing here raises.
The answers are cached per process. The requests carry the key the adapter would send (never logged).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PROBE_TIMEOUT_S = 5.0
OFFICIAL_HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com"}
BASE_URL_VARIABLES = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}
KEY_VARIABLES = {"openai": ("OPENAI_API_KEY",), "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")}
WINDOW_FIELDS = ("max_model_len", "context_length", "max_context_length", "loaded_context_length", "context_window")


def is_official(provider: str, base_url: str | None) -> bool:
    """Whether requests go to the provider's own API (no base URL, or one on its host)."""
    if not base_url:
        return True
    host = OFFICIAL_HOSTS.get(provider)
    return host is None or (urlsplit(base_url).hostname or "") == host


def effective_base_url(provider: str, configured: str | None, env: Mapping[str, str]) -> str | None:
    """The base URL the provider's SDK will use: the configured one, else its variable, else None."""
    return configured or env.get(BASE_URL_VARIABLES.get(provider, ""), "") or None


def api_key(provider: str, env: Mapping[str, str]) -> str | None:
    for name in KEY_VARIABLES.get(provider, ()):
        if env.get(name):
            return env[name]
    return None


@dataclass(frozen=True)
class ServerModels:
    """The answer to `GET {base}/models`: `error` says why there is none (the server did not answer)."""

    url: str
    models: tuple[str, ...] = ()
    windows: Mapping[str, int] | None = None  # model id -> context window, where the entry says
    error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        """For an error line: the models, or why they are not known."""
        if self.error is not None and self.error.startswith("HTTP "):
            return f"its models are unknown: {self.url} answered {self.error}"
        if self.error is not None:
            return f"its models are unknown: no answer from {self.url} ({self.error}): is the server running?"
        if not self.models:
            return f"it lists no models ({self.url})"
        shown = ", ".join(self.models[:12]) + (f" and {len(self.models) - 12} more" if len(self.models) > 12 else "")
        return f"it serves: {shown}"


@dataclass(frozen=True)
class LearntWindow:
    tokens: int
    source: str  # where it was read: "GET /v1/models max_model_len", "GET /props n_ctx", ...


def _root(base_url: str) -> str:
    """The server's root: the base URL without its trailing `/v1` (where /props and /api/show live)."""
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def _headers(provider: str, key: str | None) -> dict[str, str]:
    headers = {"accept": "application/json"}
    if key and provider == "anthropic":
        headers.update({"x-api-key": key, "anthropic-version": "2023-06-01"})
    elif key:
        headers["authorization"] = f"Bearer {key}"
    return headers


def _fetch(url: str, headers: Mapping[str, str], body: Mapping[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={**headers, "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as response:
        return json.loads(response.read().decode("utf-8", errors="replace"))


def _why(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return type(exc).__name__ if not str(exc) else str(exc)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def list_models(provider: str, base_url: str, key: str | None) -> ServerModels:
    """`GET {base}/models`: the ids the server serves and the windows its entries give. (Anthropic's base
    URL is the server's root; OpenAI's ends in `/v1`.)"""
    base = base_url.rstrip("/")
    url = base + ("/v1/models" if provider == "anthropic" and not base.endswith("/v1") else "/models")
    try:
        payload = _fetch(url, _headers(provider, key))
    except (OSError, ValueError) as exc:
        return ServerModels(url, error=_why(exc))
    entries = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(entries, list):  # Ollama's own /api/tags shape is not asked for; anything else: none
        entries = payload.get("models") if isinstance(payload, dict) else None
    ids: list[str] = []
    windows: dict[str, int] = {}
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        model_id = entry.get("id") or entry.get("model") or entry.get("name")
        if not isinstance(model_id, str) or not model_id:
            continue
        ids.append(model_id)
        for name in WINDOW_FIELDS:
            tokens = _positive_int(entry.get(name))
            if tokens is not None:
                windows[model_id] = tokens
                break
    return ServerModels(url, tuple(ids), windows)


def _from_props(root: str, model_id: str, headers: Mapping[str, str]) -> LearntWindow | None:
    payload = _fetch(root + "/props", headers)
    settings = payload.get("default_generation_settings") if isinstance(payload, dict) else None
    tokens = _positive_int(settings.get("n_ctx")) if isinstance(settings, dict) else None
    return LearntWindow(tokens, "llama.cpp GET /props n_ctx") if tokens else None


def _from_lm_studio(root: str, model_id: str, headers: Mapping[str, str]) -> LearntWindow | None:
    """LM Studio's own `GET /api/v0/models`: the context a loaded model runs with, else its maximum."""
    payload = _fetch(root + "/api/v0/models", headers)
    for entry in payload.get("data") or [] if isinstance(payload, dict) else []:
        if isinstance(entry, dict) and entry.get("id") == model_id:
            for name in ("loaded_context_length", "max_context_length"):
                tokens = _positive_int(entry.get(name))
                if tokens:
                    return LearntWindow(tokens, f"LM Studio GET /api/v0/models {name}")
    return None


def _from_ollama_ps(root: str, model_id: str, headers: Mapping[str, str]) -> LearntWindow | None:
    """A model Ollama has loaded runs with the context its `GET /api/ps` entry names (what `ollama ps` shows)."""
    payload = _fetch(root + "/api/ps", headers)
    for entry in payload.get("models") or [] if isinstance(payload, dict) else []:
        if isinstance(entry, dict) and model_id in (entry.get("name"), entry.get("model")):
            tokens = _positive_int(entry.get("context_length"))
            if tokens:
                return LearntWindow(tokens, "Ollama GET /api/ps context_length (loaded)")
    return None


def _from_ollama(root: str, model_id: str, headers: Mapping[str, str]) -> LearntWindow | None:
    """The model's `num_ctx`, else its trained length: Ollama may run it with less (OLLAMA_CONTEXT_LENGTH, or a
    default by VRAM) and then cuts the prompt silently, so docs/local-models.md says to set num_ctx."""
    payload = _fetch(root + "/api/show", headers, {"model": model_id})
    if not isinstance(payload, dict):
        return None
    parameters = payload.get("parameters")
    if isinstance(parameters, str):
        for line in parameters.splitlines():
            name, _, value = line.strip().partition(" ")
            tokens = _positive_int(value.strip().strip('"')) if name == "num_ctx" else None
            if tokens:
                return LearntWindow(tokens, "Ollama POST /api/show num_ctx")
    info = payload.get("model_info")
    if isinstance(info, dict):
        for name, value in info.items():
            tokens = _positive_int(value) if str(name).endswith(".context_length") else None
            if tokens:
                return LearntWindow(tokens, f"Ollama POST /api/show {name}")
    return None


_cache: dict[tuple[str, str], LearntWindow | None] = {}
_cache_lock = threading.Lock()


def learn_window(provider: str, base_url: str, model_id: str, key: str | None) -> LearntWindow | None:
    """The context window the server gives `model_id` (None: it does not say). Cached per process."""
    with _cache_lock:
        if (base_url, model_id) in _cache:
            return _cache[(base_url, model_id)]
    headers = _headers(provider, key)
    listed = list_models(provider, base_url, key)
    found: LearntWindow | None = None
    if listed.windows and model_id in listed.windows:
        found = LearntWindow(listed.windows[model_id], f"GET {urlsplit(listed.url).path} entry")
    if found is None and provider == "openai" and listed.reachable:
        root = _root(base_url)
        for ask in (_from_props, _from_lm_studio, _from_ollama_ps, _from_ollama):
            try:
                found = ask(root, model_id, headers)
            except (OSError, ValueError, AttributeError):
                continue
            if found is not None:
                break
    with _cache_lock:
        _cache[(base_url, model_id)] = found
    return found


def forget() -> None:
    """Drop what was learnt (tests start servers on new ports; a long-lived process may want fresh answers)."""
    with _cache_lock:
        _cache.clear()


async def served_window(provider: object, model_id: str) -> int | None:
    """The context window `provider`'s server says `model_id` has, however the provider is wrapped
    (limits, retries); None when it does not say or the provider cannot ask (the official APIs)."""
    for _ in range(16):  # wrappers never nest this deep
        ask = getattr(provider, "context_window", None)
        if callable(ask):
            learnt = await ask(model_id)
            return learnt.tokens if isinstance(learnt, LearntWindow) else None
        provider = getattr(provider, "inner", None)
        if provider is None:
            return None
    return None
