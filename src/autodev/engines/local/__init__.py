"""The local engine: a run in this process — its lifecycle (worktree, locks, resume) and `autodev batch`."""
