"""`autodev batch` on the local engine, and `autodev status`."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from scripts import APPROVE, CALC_FILES, error, feature_script, final, git

from autodev.apps.cli.main import main
from autodev.engines.local.batch import BatchRecord
from autodev.models import ModelRequest, ModelResponse
from autodev.models.fakes.scripted import ScriptedModel

REQUESTS = (
    "Add a mul(a, b) function to calc that multiplies two numbers",
    "Add a mul(a, b) function to calc (second copy of the request)",
    "Add a mul(a, b) function to calc (third copy of the request)",
)


def write_script(tmp_path: Path, script: dict[str, Any]) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    return path


def batch(
    repo: Path, batch_file: Path, script: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, Any]]:
    code = main(
        [
            "batch",
            str(batch_file),
            "--repo",
            str(repo),
            "--provider",
            "scripted",
            "--script",
            str(script),
            "--json",
            *args,
        ]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {"stderr": captured.err}


def test_a_batch_runs_every_feature_on_its_own_branch_at_most_n_at_once(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {**CALC_FILES, ".autodev/config.toml": CALC_FILES[".autodev/config.toml"] + "max_concurrent_requests = 1\n"}
    )
    head = git(repo, "rev-parse", "HEAD")
    batch_file = tmp_path / "backlog.txt"
    batch_file.write_text(
        "# the backlog\n"
        + "\n".join(REQUESTS[:2])
        + "\n\n"
        + json.dumps({"request": REQUESTS[2], "id": "third"})
        + "\n"
    )
    script = write_script(tmp_path, feature_script(delay=0.02))

    code, data = batch(repo, batch_file, script, capsys, "--features", "2")
    assert code == 0, data
    features = data["features"]
    assert [f["status"] for f in features] == ["done"] * 3
    assert features[2]["id"] == "third"
    assert len({f["branch"] for f in features}) == 3
    assert data["totals"]["done"] == 3
    assert data["totals"]["input_tokens"] == sum(f["input_tokens"] for f in features) > 0
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""

    assert main(["status", "--repo", str(repo), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["runs"]
    assert {row["run_id"] for row in rows} == {f["run_id"] for f in features}
    assert all(row["status"] == "done" and row["stage"] == "finished" for row in rows)


@pytest.mark.parametrize("limit", [1, None])
def test_every_feature_of_a_batch_shares_one_provider_limiter(
    make_repo: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    limit: int | None,
) -> None:
    """Measured where the request leaves the limiter: the model itself counts requests in flight."""
    in_flight, peak = 0, 0
    original = ScriptedModel.complete

    async def counting(self: ScriptedModel, request: ModelRequest) -> ModelResponse:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await original(self, request)
        finally:
            in_flight -= 1

    monkeypatch.setattr(ScriptedModel, "complete", counting)
    extra = f"max_concurrent_requests = {limit}\n" if limit else ""
    repo = make_repo({**CALC_FILES, ".autodev/config.toml": CALC_FILES[".autodev/config.toml"] + extra})
    batch_file = tmp_path / "backlog.txt"
    batch_file.write_text("\n".join(REQUESTS) + "\n")
    code, data = batch(repo, batch_file, write_script(tmp_path, feature_script(delay=0.03)), capsys, "--features", "3")
    assert code == 0, data
    if limit:
        assert peak == 1  # three features, two parallel researchers each: still one request at a time
    else:
        assert peak >= 3


def test_running_a_batch_again_keeps_finished_features_and_resumes_the_rest(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES)
    batch_file = tmp_path / "backlog.txt"
    batch_file.write_text("\n".join(REQUESTS[:2]) + "\n")
    # every feature's reviewer hits a provider outage once, then works
    script = write_script(tmp_path, feature_script({"reviewer": [error("529 overloaded"), final(APPROVE)]}))
    code, first = batch(repo, batch_file, script, capsys)
    assert code == 1
    assert [f["status"] for f in first["features"]] == ["failed", "failed"]

    assert main(["status", "--repo", str(repo), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["runs"]
    assert {row["stage"] for row in rows} == {"validate"}

    code, second = batch(repo, batch_file, script, capsys)
    assert code == 0, second
    assert [f["run_id"] for f in second["features"]] == [f["run_id"] for f in first["features"]]
    for feature in second["features"]:
        state = json.loads((repo / ".autodev" / "runs" / feature["run_id"] / "state.json").read_text())
        assert state["status"] == "done" and state["resumes"] == 1
        assert state["agents"]["implementer"]["runs"] == 1  # paid once

    code, third = batch(repo, batch_file, script, capsys)  # all done: nothing runs again
    assert code == 0
    assert [f["run_id"] for f in third["features"]] == [f["run_id"] for f in first["features"]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no requests"),
        ('{"request": "x", "colour": "red"}\n', ":1: unknown key(s) colour"),
        ('add a flag\n{"request": \n', ":2: not valid JSON"),
        ('{"request": "a", "id": "x"}\n{"request": "b", "id": "x"}\n', ":2: id 'x' is used twice"),
        ('{"request": ""}\n', ":1: `request` must be a non-empty string"),
    ],
)
def test_a_bad_batch_file_is_refused_before_anything_runs(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    repo = make_repo(CALC_FILES)
    batch_file = tmp_path / "backlog.txt"
    batch_file.write_text(content)
    code = main(["batch", str(batch_file), "--repo", str(repo), "--provider", "scripted"])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (repo / ".autodev" / "runs").exists()


def test_status_shows_a_killed_run_as_stopped(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES)
    batch_file = tmp_path / "one.txt"
    batch_file.write_text(REQUESTS[0] + "\n")
    code, data = batch(repo, batch_file, write_script(tmp_path, feature_script()), capsys)
    assert code == 0
    state_file = repo / ".autodev" / "runs" / data["features"][0]["run_id"] / "state.json"
    state = json.loads(state_file.read_text())
    state["status"], state["progress"] = "running", {"step": "validate", "cycle": 1}
    state_file.write_text(json.dumps(state))
    assert main(["status", data["features"][0]["run_id"], "--repo", str(repo)]) == 0
    shown = capsys.readouterr().out
    assert "stopped" in shown and "validate 2" in shown


def test_features_remembered_at_once_are_all_in_the_batch_record(tmp_path: Path) -> None:
    """Features start together and each remembers its run from a worker thread; without one writer at a
    time an older copy of the record could be renamed over a newer one, and the batch run again started
    a forgotten feature a second time (on Temporal it then waited for a worker forever)."""
    for attempt in range(3):  # the race needs a few tries to show without the lock; none with it
        batch_file = tmp_path / f"backlog-{attempt}.txt"
        batch_file.write_text(f"attempt {attempt}\n", encoding="utf-8")
        record = BatchRecord.for_file(tmp_path, batch_file)
        features = [f"f{index:03d}" for index in range(40)]
        threads = [threading.Thread(target=record.remember, args=(name, f"run-{name}")) for name in features]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert BatchRecord.for_file(tmp_path, batch_file).runs == {name: f"run-{name}" for name in features}
