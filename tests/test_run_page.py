"""`autodev report RUN --html FILE`: one self-contained page with the run's timeline, agents (cost and
tokens), test step, verdicts, handoffs and diff — every run value escaped and redacted — checked as
text and as headless Chromium renders it (required where AUTODEV_TEST_REQUIRE_CHROMIUM=1, as in CI).
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import tempfile
from pathlib import Path

import pytest
from PIL import Image
from run_fixture import SharedRun, shared_run

from autodev.apps.cli.main import main
from autodev.apps.report.chromium import WINDOW, find_chromium, render
from autodev.apps.report.page import SECTIONS, render_page, run_diff
from autodev.run.report_view import RunReportView, build_report

HOSTILE = (
    "## Findings\n<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"
    '</pre></details><a href="https://evil.example/">x</a>\n'
    "key sk-ant-api03-" + "a" * 90 + "\nVERDICT: APPROVE"
)
SECRET = "sk-ant-api03-" + "a" * 90
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SharedRun:
    return shared_run(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def view(demo: SharedRun) -> RunReportView:
    return build_report(demo.repo, demo.run_dir)


def hostile(view: RunReportView) -> RunReportView:
    """The view with the reviewer's handoff (and the request) written by an attacker."""
    state = dataclasses.replace(view.state, agents=dict(view.state.agents), request=f"<b>bold</b> {SECRET}")
    state.agents["reviewer"] = dataclasses.replace(state.agents["reviewer"], handoff=HOSTILE)
    return dataclasses.replace(view, state=state, report=dataclasses.replace(view.report, request=state.request))


def section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.DOTALL)
    assert match, f"no {name} section"
    return match.group(1)


def test_the_page_has_every_piece_of_the_run(demo: SharedRun, view: RunReportView) -> None:
    page = render_page(view, run_diff(demo.repo, view.state))
    assert [m for m in re.findall(r'<section id="(\w+)">', page)] == list(SECTIONS)
    assert f"autodev run {demo.run_id}" in section(page, "summary") and "overlap" in section(page, "summary")
    timeline = section(page, "timeline")
    assert "<svg" in timeline and all(f">{name}</text>" in timeline for name in demo.state["agents"])
    agents = section(page, "agents")
    for row in view.report.agents:  # each agent with its cost and tokens
        cells = re.search(rf"<tr><td>{row.agent}</td>(.*?)</tr>", agents)
        assert cells and f"${row.cost_usd:.4f}" in cells.group(1) and f"{row.input_tokens:,}" in cells.group(1)
    assert "peak context" in agents and "cache read" in agents and "Tokens —" in agents
    tests = section(page, "tests")
    assert "passed" in tests and "11 passed, 0 failed" in tests and "pytest" in tests
    verdicts = section(page, "verdicts")
    assert re.search(r"<b>reviewer</b>: <span class=\"status APPROVE\">APPROVE</span>", verdicts)
    assert re.search(r"<b>security-auditor</b>: <span class=\"status APPROVE\">APPROVE</span>", verdicts)
    handoffs = section(page, "handoffs")
    assert handoffs.count("<details open") == sum(1 for a in demo.state["agents"].values() if a["handoff"])
    diff = section(page, "diff")
    assert f"The run&#x27;s commit {demo.state['commit'][:12]} against its base commit." in diff
    assert re.search(r'<span class="add">\+def slugify\(text: str\) -&gt; str:</span>', diff)
    assert '<span class="file">+++ b/textkit/strings.py</span>' in diff


def test_the_page_is_self_contained_and_escapes_and_redacts_run_text(demo: SharedRun, view: RunReportView) -> None:
    """Found nowhere yet, guarded here: a handoff is model output, and a page that ran it would be an XSS."""
    page = render_page(hostile(view), run_diff(demo.repo, view.state))
    assert "<script" not in page.lower() and "<img" not in page and "<a " not in page
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page  # the request too
    assert SECRET not in page and "[REDACTED:anthropic_key]" in page
    assert "script-src" not in page and "default-src 'none'" in page  # a policy that refuses scripts
    outside = re.sub(r'xmlns="http://www\.w3\.org/2000/svg"', "", page)  # a namespace name, never fetched
    assert not re.search(r"https?://(?!evil\.example)|<\w+[^>]*\s(?:src|href)=|<link|@import|url\(", outside)


def test_report_html_writes_the_page_and_refuses_what_it_cannot(
    demo: SharedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "run.html"
    assert main(["report", "--repo", str(demo.repo), "--html", str(target)]) == 0
    assert f"run page written to {target}" in capsys.readouterr().out
    assert target.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert main(["report", "--all", "--repo", str(demo.repo), "--html", str(target)]) == 2
    assert "--html draws one run" in capsys.readouterr().err
    assert main(["report", "--repo", str(demo.repo), "--html", str(tmp_path / "no" / "such" / "dir.html")]) == 2
    err = capsys.readouterr().err
    assert "cannot write it" in err and "Traceback" not in err


def chromium_or_skip() -> None:
    if find_chromium() is None:
        if os.environ.get("AUTODEV_TEST_REQUIRE_CHROMIUM") == "1":
            pytest.fail("AUTODEV_TEST_REQUIRE_CHROMIUM=1 but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium; CI requires it)")


def browsers_using(directory: Path) -> list[str]:
    """Command lines of the processes that mention `directory` (a Chromium with its profile there)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(directory) in text:
            found.append(text)
    return found


def test_chromium_renders_every_piece_runs_nothing_and_leaves_nothing_running(
    demo: SharedRun, view: RunReportView, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium_or_skip()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the browser's throwaway profile goes here
    page, shot = tmp_path / "page.html", tmp_path / "page.png"
    page.write_text(render_page(hostile(view), run_diff(demo.repo, view.state)), encoding="utf-8")
    rendered = render(page, shot)
    assert rendered.exit_code == 0, rendered.errors
    dom = rendered.output
    assert f"<title>autodev run {demo.run_id}</title>" in dom  # not PWNED: no script ran
    assert "<script" not in dom and "<img" not in dom  # parsed as text, not as elements
    assert "&lt;script&gt;" in dom and SECRET not in dom
    for name in SECTIONS:
        assert f'<section id="{name}">' in dom, name
    assert dom.count("<tr>") >= len(demo.state["agents"]) and "<svg" in dom and 'class="add"' in dom
    with Image.open(io.BytesIO(shot.read_bytes())) as image:
        assert shot.read_bytes()[:8] == PNG_SIGNATURE and image.size == WINDOW
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 50  # a page, not a blank
    assert browsers_using(tmp_path) == []
    assert not any(p.name.startswith("autodev-chromium-") for p in tmp_path.iterdir())  # the profile is gone


def test_the_page_of_a_run_that_failed_before_its_commit(demo: SharedRun, view: RunReportView) -> None:
    state = dataclasses.replace(view.state, commit=None, checkpoint=None, status="failed")
    error = "agent failed: implementer: <model error> with key " + SECRET
    failed = dataclasses.replace(view, state=state, report=dataclasses.replace(view.report, error=error))
    page = render_page(failed, run_diff(demo.repo, state))
    assert "Nothing yet: the run has no commit and no checkpoint." in section(page, "diff")
    summary = section(page, "summary")
    assert "&lt;model error&gt;" in summary and SECRET not in summary and "<dt>commit</dt><dd>none</dd>" in summary
