"""autonomous-dev: a feature request carried through a pipeline of specialised LLM agents.

The orchestrator is code, not a prompt: order, parallelism, budgets, skips and gates are enforced by
the program, and every model call is measured.
"""

__version__ = "0.1.0"
