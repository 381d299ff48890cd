"""`autodev eval`: outcome quality of the real pipeline on coding tasks whose tests the agents never see.

Speed and cost mean nothing if the code is wrong, so this package answers "did it work" with a number
a user can compare across configurations (tiers, skips, budgets):

- `tasks`: task suites (the native `task.toml` format, the Exercism layout, the built-in suite);
- `workspace`: a fresh temporary git repository per task, holding only what the agents may see;
- `grading`: the run's diff applied to a fresh copy, the hidden tests copied over, run by name;
- `models`: the oracle (writes the reference solution) and null (changes nothing) models;
- `options`: what an eval runs with (`EvalOptions`), and its manifest;
- `one_pass`: one pipeline run inside a task, a crash kept as an `error` pass;
- `trial`: one (task, trial): passes, grading, one retry with the failing output;
- `trial_record`: the result record of a trial, with the figures from its runs' metrics;
- `harness`: tasks x trials, one or `jobs` at a time, resumable results;
- `validate`: the oracle must pass every task and the null model must fail it;
- `results`: per-task result files, the summary (Wilson interval, percentiles, cost) and comparisons.
"""
