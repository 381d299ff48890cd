"""`autodev eval`: outcome quality of the real pipeline on coding tasks whose tests the agents never see.

Speed and cost mean nothing if the code is wrong, so this package answers "did it work" with a number
a user can compare across configurations (tiers, skips, budgets):

- `tasks`: task suites (the native `task.toml` format, the Exercism layout, the built-in suite);
- `workspace`: a fresh temporary git repository per task, holding only what the agents may see;
- `grading`: the run's diff applied to a fresh copy, the hidden tests copied over, run by name;
- `models`: the oracle (writes the reference solution) and null (changes nothing) models;
- `harness`: tasks x trials, retries with the failing output, resumable results, `validate`;
- `results`: per-task result files, the summary (Wilson interval, percentiles, cost) and comparisons.
"""
