"""Choosing the `ModelProvider` for a run from settings.

The scripted provider is always here; the Anthropic and OpenAI adapters arrive with the providers
work, and until then choosing them is a clear configuration error rather than a silent fallback.
"""

from __future__ import annotations

from autodev.config import Settings
from autodev.errors import UserError
from autodev.models import ModelProvider
from autodev.models.scripted import ScriptedProvider


def build_provider(settings: Settings) -> ModelProvider:
    name = settings.require_provider()
    if name == "scripted":
        if settings.script is None:
            raise UserError(
                "the scripted provider needs a script of replies",
                hint='pass --script FILE (YAML), or set script = "..." in .autodev/config.toml',
            )
        return ScriptedProvider.from_file(settings.script)
    raise UserError(
        f"the {name} provider is not available in this version of autonomous-dev yet",
        hint="run `autodev demo` to see the pipeline with scripted replies, or use --provider scripted --script FILE",
    )
