"""The Claude Code plugin in `plugin/` (listed by `.claude-plugin/marketplace.json`) stays what the code makes.

Its agents are `autodev agents --export plugin/agents --builtin`, byte for byte: a prompt edited in
src/autodev/agent/builtin/agents/ and not exported again fails here. Its MCP server is `autodev mcp`, and
the slash command names only tools that server has.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autodev.agent.export import builtin_agents, claude_code_agent, claude_code_tools
from autodev.agent.frontmatter import split_frontmatter
from autodev.agent.specs import load_agent_file
from autodev.apps.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "plugin"
REGENERATE = "regenerate with: autodev agents --export plugin/agents --builtin"


def test_the_plugin_agents_are_the_export_of_the_builtin_agents() -> None:
    shipped = {path.stem: path.read_text(encoding="utf-8") for path in (PLUGIN / "agents").glob("*.md")}
    specs = builtin_agents()
    assert set(shipped) == set(specs), REGENERATE
    for name, spec in specs.items():
        assert shipped[name] == claude_code_agent(spec), f"plugin/agents/{name}.md is stale; {REGENERATE}"


def test_agents_export_writes_exactly_the_plugin_agents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "agents"
    assert main(["agents", "--export", str(dest), "--builtin", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)["exported"]
    assert sorted(Path(path).name for path in written) == sorted(p.name for p in (PLUGIN / "agents").glob("*.md"))
    for path in dest.iterdir():
        assert path.read_bytes() == (PLUGIN / "agents" / path.name).read_bytes()


def test_an_exported_agent_is_a_claude_code_subagent_that_autodev_reads_back_the_same() -> None:
    for name, spec in builtin_agents().items():
        exported = load_agent_file(PLUGIN / "agents" / f"{name}.md")
        assert (exported.name, exported.description, exported.prompt) == (spec.name, spec.description, spec.prompt)
        assert (exported.tier, exported.model, exported.write_scope, exported.verdict, exported.roles) == (
            spec.tier,
            spec.model,
            spec.write_scope,
            spec.verdict,
            spec.roles,
        )
        assert exported.tools == (tuple(claude_code_tools(spec.tools)) if spec.tools is not None else None)
        assert "RunTests" not in (exported.tools or ())  # Claude Code has no such tool: its agents use Bash
        text = (PLUGIN / "agents" / f"{name}.md").read_text(encoding="utf-8")
        frontmatter, body, _ = split_frontmatter(Path(name), text)
        assert re.search(r"^name: ", frontmatter, re.M) and re.search(r"^description: ", frontmatter, re.M)
        assert body.strip() == spec.prompt.strip()


def test_the_manifests_point_at_the_plugin_and_its_server_is_autodev_mcp() -> None:
    marketplace = json.loads((ROOT / ".claude-plugin" / "marketplace.json").read_text())
    [entry] = marketplace["plugins"]
    assert (ROOT / entry["source"] / ".claude-plugin" / "plugin.json").is_file()
    manifest = json.loads((PLUGIN / ".claude-plugin" / "plugin.json").read_text())
    assert manifest["name"] == entry["name"] == "autodev"
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", manifest["name"])
    servers = json.loads((PLUGIN / ".mcp.json").read_text())["mcpServers"]
    assert servers == {"autodev": {"command": "autodev", "args": ["mcp"]}}
    assert main(["mcp", "--help"]) == 0


def test_the_slash_command_uses_only_tools_the_server_has() -> None:
    probe = (  # in a process of its own: the SDK configures logging when a server is built
        "import anyio, json; from pathlib import Path; from autodev.apps.mcp.server import build_server\n"
        "async def names(): return sorted(t.name for t in await build_server(Path('.')).list_tools())\n"
        "print(json.dumps(anyio.run(names)))"
    )
    listed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    served = set(json.loads(listed.stdout))
    text = (PLUGIN / "commands" / "autodev.md").read_text(encoding="utf-8")
    frontmatter, body, _ = split_frontmatter(Path("autodev.md"), text)
    fields: dict[str, Any] = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in frontmatter.splitlines()}
    assert fields["description"] and "$ARGUMENTS" in body
    named = set(re.findall(r"`(autodev_[a-z]+)`", body))
    assert {"autodev_plan", "autodev_run", "autodev_status", "autodev_report", "autodev_diff"} <= named
    assert named <= served
