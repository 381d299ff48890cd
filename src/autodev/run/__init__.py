"""Floor 7, run: one run of the pipeline — plan, state, the DAG, the driver and its steps.

`driver` is the control flow written once (build, test gate, validation, remediation, finish);
`agent_step` prepares, runs and records one agent; `gate` runs the project's tests; `recorder`
writes state.json, metrics and events. Engines execute the driver; nothing here knows which one.
"""
