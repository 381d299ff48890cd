"""Floor 5, agent: one agent — its file (specs, skills), its prompt and context, and the tool loop.

Also the tier-0 analysers whose facts reach an agent, and verdict parsing. Everything an agent is
offered comes from its file's frontmatter (docs/agents.md), never from its name.
"""
