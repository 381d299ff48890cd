"""`autodev mcp`: autodev as an MCP server over stdio, for Claude Code, Cursor, Codex CLI and any MCP client.

The tools plan, start, follow, report, diff, resume and cancel runs; a run started here is an ordinary
`autodev run` in a process of its own (its own session), so it survives the client going away and
`autodev status` sees it. Nothing heavy is imported here: the server module loads the SDK, and the
provider SDKs are loaded only by the runs themselves.
"""
