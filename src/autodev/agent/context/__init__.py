"""Context budgets: token counting and handoff caps."""
