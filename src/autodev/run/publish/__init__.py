"""GitHub at both ends of a run: an issue as the request (`--issue`), the result pushed and a pull request
opened for it (`--push`, `--pr`), through the user's own `gh` and autodev's pinned git.

Publishing happens after the run: whatever goes wrong there (no `gh`, no remote, a refused push) leaves
the run's branch as it is, and the error says the exact commands that publish it by hand.
"""
