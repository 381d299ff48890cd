"""Smart agent selection: which agents a change needs, decided twice.

- `request`: classify the request text (plus what the paths it names are in the repository) as
  docs | typo | config | feature, with reasons; unsure or security-sensitive -> feature.
- `diff`: classify what a change actually touched, file by file (docs | config | tests | code, with a
  syntax-tree check that turns docstring- and comment-only Python edits into docs).
- `policy`: which agents each class skips (configurable, `[selection]`), and the re-check after the
  implementer, which may only add work back.
- `overrides`: `--full`, `--skip`, `--only`, and the one skip that is refused.
- `repo`: the git plumbing the two classifiers need (a path lookup, a worktree's changed files).

`autodev.run.selection.decide` is the seam the pipeline calls; `autodev.apps.bench.selection` measures the
request classifier against real commits.
"""
