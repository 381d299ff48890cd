"""Pictures of a run: the timeline image and the stage timings shown after a run."""
