"""Floor 8, engines: who executes the run's driver — `local` (one process, also `autodev batch`) or
`temporal` (a feature is a workflow, each agent run an activity, workers anywhere).
"""
