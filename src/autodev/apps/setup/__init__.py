"""Setting a repository up for autodev: `autodev init` (the config file) and `autodev doctor` (the checks)."""
