"""Offline token counting for pre-flight budgets: OpenAI's o200k_base BPE, no network at run time.

`bpe-openai` ships the o200k_base tables inside its wheel, so counting works offline. There is no offline
Claude tokenizer; Claude's counts differ from these by some percent. Provider-reported usage stays the
truth in metrics: this count only decides, before a call, what fits in a budget. If the package cannot be
loaded, counts fall back to the character estimate in `autodev.core.tokens`, with one warning.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable

from autodev.core.tokens import estimate_tokens

ENCODING = "o200k_base"
CHUNK_CHARS = 500_000  # counted a piece at a time: bpe-openai refuses 1,000,000 characters at once

log = logging.getLogger(__name__)
_lock = threading.Lock()
_encode: Callable[[str], list[int]] | None = None
_loaded = False


def _load() -> Callable[[str], list[int]] | None:
    global _encode, _loaded
    with _lock:
        if not _loaded:
            try:
                with warnings.catch_warnings():  # its resource loading uses a deprecated importlib API
                    warnings.simplefilter("ignore", DeprecationWarning)
                    import bpe_openai  # type: ignore[import-untyped]

                    encoding = bpe_openai.get_encoding(ENCODING)
                _encode = encoding.encode_ordinary
            except Exception as exc:  # any failure to load means: estimate instead
                log.warning("token counter %s unavailable (%s); using a 4-characters-per-token estimate", ENCODING, exc)
                _encode = None
            _loaded = True
    return _encode


def count_tokens(text: str) -> int:
    """Tokens in `text` by o200k_base (special-token markers count as ordinary text)."""
    if not text:
        return 0
    encode = _encode if _loaded else _load()
    if encode is None:
        return estimate_tokens(text)
    if len(text) < CHUNK_CHARS:
        return len(encode(text))
    total, start = 0, 0
    while start < len(text):  # the tokenizer refuses a piece of a million characters or more
        end = min(len(text), start + CHUNK_CHARS)
        if end < len(text):  # cut after a line break, else before a space: where no token straddles the cut
            line = text.rfind("\n", start + CHUNK_CHARS // 2, end)
            space = text.rfind(" ", start + CHUNK_CHARS // 2, end)
            end = line + 1 if line != -1 else space if space != -1 else end
        total += len(encode(text[start:end]))
        start = end
    return total


def exact() -> bool:
    """Whether counts come from the tokenizer (True) or the character estimate (False)."""
    return (_encode if _loaded else _load()) is not None
