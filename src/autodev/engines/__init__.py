"""Many features at once: `autodev batch FILE` runs a backlog locally (one process, one shared provider
limiter) or on Temporal (`autodev.engines.temporal`: a feature is a workflow, an agent run an activity)."""
