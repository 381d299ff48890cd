"""Floor 4, tools: what agents use to act on the repository (Read, Write, Edit, Glob, Grep, Bash, RunTests).

Each tool is confined by a `sandbox.Workspace`; tools know nothing of config or of agents.
"""
