"""The pipeline: the DAG as data, the scheduler that runs it, selection, and the run's state."""
