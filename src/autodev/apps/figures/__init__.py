"""Every figure in README.md and docs/ comes from a command: this package reruns them and rewrites the text.

A figure lives in a marked block of a markdown file, naming the command that printed it:

    <!-- figures: autodev bench cost | grep '^tiered' -->
    ```text
    (the command's output)
    ```
    <!-- /figures -->

Three kinds (the word after `figures`): plain blocks are deterministic and quick, and CI diffs them
(`tests/test_figures.py`); `slow` blocks are deterministic but take long, so CI only checks that they
name a real command (`--check --slow` diffs them too); `machine-dependent` blocks hold timings, which no
diff can check: they carry a `Measured DATE on MACHINE` line, and a check verifies that line and the
command. `python -m autodev.apps.figures` rewrites every block; `--check` rewrites nothing and exits 1
with a diff when a block is stale.
"""
