"""The test gate: the project's tests, run by the program after the implementer, read back as counts."""
