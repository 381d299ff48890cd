"""`autodev bench jail`: the jail's overhead per gate run, measured on the demo project (issue #16)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import require_jail

from autodev.apps.cli.main import cli, main


def test_bench_jail_measures_both_sides_and_both_pass() -> None:
    require_jail()
    result = CliRunner().invoke(cli, ["bench", "jail", "--runs", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["all_passed"] is True  # the demo's tests pass jailed and unconfined: the jail hides nothing they need
    assert data["jailed_median_s"] > 0 and data["unconfined_median_s"] > 0
    assert data["startup_jailed_ms"] > 0 and data["startup_unconfined_ms"] > 0  # both measured (no speed assumed)
    assert data["target_percent"] == 5.0


def test_bench_jail_without_bubblewrap_is_a_user_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from autodev.sandbox import jail

    monkeypatch.setattr(jail, "bubblewrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    from autodev.apps.bench import jail_overhead

    monkeypatch.setattr(jail_overhead, "bubblewrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    assert main(["bench", "jail"]) == 2
    assert "cannot measure the jail: bubblewrap (bwrap) is not installed" in capsys.readouterr().err
