"""SWE-bench for `autodev eval swebench`: predictions the official harness grades, and a local grade.

- `dataset`: the instances (jsonl, or parquet with the `parquet` extra), chosen by id or slice;
- `repos`: where each instance's repository comes from, and its fresh copy at `base_commit`;
- `predictions`: the official predictions file (one line per instance), its validator, the side file;
- `gold`: the oracle's files (the gold patch applied) for `eval validate`;
- `local_grade`: the test patch applied in a fresh copy and FAIL_TO_PASS / PASS_TO_PASS run locally;
- `runner`: each instance through the real pipeline, resumable.

What the agents see is the instance's `problem_statement` and the repository at `base_commit`, with no
history after it: `test_patch`, `FAIL_TO_PASS`, `PASS_TO_PASS`, `patch` and `hints_text` never reach them.
"""
