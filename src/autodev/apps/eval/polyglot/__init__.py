"""The Aider polyglot benchmark (`<language>/exercises/practice/<exercise>/`) as `autodev eval` suites.

- `languages`: each language's toolchain, test command and how its skipped tests are turned back on;
- `suite`: the folder loaded as one suite of the languages whose toolchain is here, the others listed;
- `figures`: the leaderboard's headline figures (pass rate after try 1 and try 2, well-formed, cost).
"""
