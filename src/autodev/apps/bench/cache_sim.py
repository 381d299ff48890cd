"""Anthropic prompt caching, simulated offline from the real request bodies our adapter builds.

The documented semantics: a cache entry is the exact prefix (tools -> system -> messages) up to a
block marked `cache_control`; a request reads the longest of its breakpoint prefixes that an earlier
request (same model) wrote, and writes its longest breakpoint prefix when that reaches the model's
minimum cacheable size. Tokens are counted offline (about four characters each), so absolute
numbers are estimates; the breakpoints measured are the ones `models.anthropic.build_params` places.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from autodev.core.tokens import estimate_tokens
from autodev.models import Usage


def _blocks(params: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for tool in params.get("tools", []):
        yield "tool", tool
    system = params.get("system", [])
    for block in [{"type": "text", "text": system}] if isinstance(system, str) else system:
        yield "system", block
    for index, message in enumerate(params.get("messages", [])):
        content = message["content"]
        for block in [{"type": "text", "text": content}] if isinstance(content, str) else content:
            yield f"{message['role']}{index}", block


class PromptCacheSimulator:
    def __init__(self, min_cacheable_tokens: int = 1024) -> None:
        self.min_cacheable_tokens = min_cacheable_tokens
        self._stored: set[str] = set()

    def usage(self, params: dict[str, Any], output_tokens: int) -> Usage:
        digest = hashlib.sha256(str(params["model"]).encode())
        total = 0
        breakpoints: list[tuple[str, int]] = []  # (prefix key, prefix tokens)
        for section, block in _blocks(params):
            clean = {k: v for k, v in block.items() if k != "cache_control"}
            text = json.dumps(clean, sort_keys=True, separators=(",", ":"))
            digest.update(section.encode() + text.encode())
            total += estimate_tokens(text)
            if "cache_control" in block:
                breakpoints.append((digest.copy().hexdigest(), total))
        read = max((tokens for key, tokens in breakpoints if key in self._stored), default=0)
        write = 0
        if breakpoints and breakpoints[-1][1] >= self.min_cacheable_tokens:
            write = breakpoints[-1][1] - read
            self._stored.update(key for key, tokens in breakpoints if tokens >= self.min_cacheable_tokens)
        return Usage(
            input_tokens=total - read - write,
            output_tokens=output_tokens,
            cache_read_tokens=read,
            cache_write_tokens=write,
        )
