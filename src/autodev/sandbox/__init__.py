"""Floor 3, sandbox: where executed code and tools may reach — worktree containment and write scopes.

The jail for executed code will live here too. Imports only core and models.
"""
