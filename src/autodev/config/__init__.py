"""Floor 6, config: one settings model in layers (built-in, user, repository, environment, flags), each
value with its source, and providers built from it (docs/config.md).
"""
