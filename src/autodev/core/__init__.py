"""Floor 1, core: what every other floor uses and nothing here needs from them.

Errors, the clock, atomic JSON files, secret redaction, capped text, running a program (one set of
kill rules), locks, git plumbing, token estimates, `Usage`, metric records and their sink, the
`PerformanceTimer` and OpenTelemetry spans. Imports nothing else from autodev.
"""
