"""Secrets redaction: every documented kind on real-looking samples, ordinary code left alone, speed,
and the files autodev writes (state.json, metrics.jsonl) redacted on disk only.

Every sample is assembled from pieces, so no string in this file looks like a credential to a scanner.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest

from autodev.core.metrics import MetricsSink
from autodev.core.redact import find_secrets, is_secret_name, redact, redact_data
from autodev.run.state import RunState, StateStore

ALNUM = "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY"  # 32 characters, mixed case and digits
B64 = "MIIEowIBAAKCAQEA" + ALNUM + "+/" + ALNUM[::-1]

ANTHROPIC = "sk-" + "ant-" + "api03-" + ALNUM + ALNUM + "-" + "AA"
OPENAI_PROJECT = "sk-" + "proj-" + ALNUM + "_" + ALNUM
OPENAI_LEGACY = "sk-" + ALNUM + "T3Blbk" + "FJ" + ALNUM[:14]
AWS_ID = "AKIA" + "IOSFODNN7" + "EXAMP1E"
AWS_SESSION_ID = "ASIA" + "Y34FZKBOKMUT" + "VV7A"
AWS_SECRET = "wJalrXUtnFEMI" + "/K7MDENG/" + "bPxRfiCY" + "EXAMPLEKEY"
GITHUB = {prefix: prefix + "_" + ALNUM + "1234" for prefix in ("ghp", "gho", "ghu", "ghs", "ghr")}
GITHUB_PAT = "github" + "_pat_" + "11ABCDEFG0" + "_" + ALNUM + ALNUM
SLACK = {p: "xox" + p + "-" + "1234567890" + "-" + "0987654321" + "-" + ALNUM[:24] for p in "abprs"}
GOOGLE = "AIza" + "SyD" + ALNUM
STRIPE = {p: p + "_live_" + ALNUM[:24] for p in ("sk", "rk")}
JWT = "eyJ" + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + "." + "eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0" + "." + ALNUM + "_-x"
BEARER = "ya29" + "." + ALNUM + ALNUM
BASIC = "dXNl" + "cjpw" + "YXNzd29yZA=="
PASSWORD = "hun" + "ter2"


def pem(kind: str = "RSA ") -> str:
    return (
        f"-----BEGIN {kind}PRIVATE KEY-----\n"
        + "\n".join([B64[:64], B64[-64:], B64[:40]])
        + f"\n-----END {kind}PRIVATE KEY-----"
    )


def kinds(text: str) -> list[str]:
    return [m.kind for m in find_secrets(text)]


def secret_free(text: str, *secrets: str) -> bool:
    out = redact(text)
    return "[REDACTED:" in out and not any(secret in out for secret in secrets)


# --------------------------------------------------------------------------- each kind


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        (f'client = Anthropic(api_key="{ANTHROPIC}")', "anthropic_key", ANTHROPIC),
        (f"OPENAI_API_KEY={OPENAI_PROJECT}", "openai_key", OPENAI_PROJECT),
        (f"key: {OPENAI_LEGACY}", "openai_key", OPENAI_LEGACY),
        (f"aws_access_key_id = {AWS_ID}", "aws_access_key_id", AWS_ID),
        (f"{{'AccessKeyId': '{AWS_SESSION_ID}'}}", "aws_access_key_id", AWS_SESSION_ID),
        (f"aws_secret_access_key = {AWS_SECRET}", "aws_secret_key", AWS_SECRET),
        (f'"SecretAccessKey": "{AWS_SECRET}"', "aws_secret_key", AWS_SECRET),
        (f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}", "aws_secret_key", AWS_SECRET),
        *[(f"git push https://github.com with {t}", "github_token", t) for t in GITHUB.values()],
        (f"GH_PAT {GITHUB_PAT} end", "github_token", GITHUB_PAT),
        *[(f"slack: {t}", "slack_token", t) for t in SLACK.values()],
        (f"maps?key={GOOGLE}&q=1", "google_api_key", GOOGLE),
        *[(f"stripe.api_key = '{t}'", "stripe_key", t) for t in STRIPE.values()],
        (f"session cookie {JWT}; path=/", "jwt", JWT),
        (f"Authorization: Bearer {BEARER}", "authorization", BEARER),
        (f"curl -H 'authorization: basic {BASIC}' https://api", "authorization", BASIC),
        (f'headers = {{"Authorization": "Token {ALNUM}"}}', "authorization", ALNUM),
        (f"sent Bearer {BEARER} upstream", "authorization", BEARER),
        (f"postgres://admin:{PASSWORD}pw@db.internal:5432/app", "url_credentials", PASSWORD + "pw"),
        (f"git clone https://bot:{ALNUM}@example.invalid/r.git", "url_credentials", ALNUM),
        (f'password = "{PASSWORD}"', "secret_assignment", PASSWORD),
        ("PASSWORD: s3" + "cr3t", "secret_assignment", "s3" + "cr3t"),
        (f"api_key='{ALNUM}'", "secret_assignment", ALNUM),
        (f'{{"token": "{ALNUM}"}}', "secret_assignment", ALNUM),
        (f"export SECRET_KEY={ALNUM}", "secret_assignment", ALNUM),
        ("export SECRET_KEY=" + "abcdefghijk", "secret_assignment", "abcdefghijk"),
        ("DB_PASS=" + "topsecret", "secret_assignment", "topsecret"),
        (f'db_password: str = "{PASSWORD}"', "secret_assignment", PASSWORD),
        (f'connect(host, password="{PASSWORD}")', "secret_assignment", PASSWORD),
        (f'dbPassword = "{PASSWORD}";', "secret_assignment", PASSWORD),
        (f"  client_secret: {ALNUM}\n", "secret_assignment", ALNUM),
        (f"password = {PASSWORD}", "secret_assignment", PASSWORD),  # INI
        (f"'passphrase' => '{PASSWORD} horse'", "secret_assignment", PASSWORD + " horse"),
        (f'token := "{ALNUM}"', "secret_assignment", ALNUM),
        (f'{{"content": "password = \\"{PASSWORD}\\"\\n"}}', "secret_assignment", PASSWORD),  # JSON-escaped
    ],
)
def test_each_kind_is_found_and_only_the_secret_goes(text: str, kind: str, secret: str) -> None:
    assert kind in kinds(text)
    out = redact(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out


def test_assignment_keeps_the_name_and_the_quotes() -> None:
    assert redact(f'password = "{PASSWORD}"') == 'password = "[REDACTED:secret_assignment]"'
    assert redact("PASSWORD: s3" + "cr3t") == "PASSWORD: [REDACTED:secret_assignment]"
    assert redact(f"export SECRET_KEY={ALNUM}\nNEXT=1") == "export SECRET_KEY=[REDACTED:secret_assignment]\nNEXT=1"
    url = f"https://admin:{PASSWORD}@db.internal/app"
    assert redact(url) == "https://admin:[REDACTED:url_credentials]@db.internal/app"
    assert redact(f"Authorization: Bearer {BEARER}") == "Authorization: Bearer [REDACTED:authorization]"


@pytest.mark.parametrize("kind", ["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""])
def test_pem_private_key_blocks_go_whole(kind: str) -> None:
    text = f"config:\n{pem(kind)}\nafter the key"
    assert redact(text) == "config:\n[REDACTED:private_key]\nafter the key"


def test_pem_block_json_escaped_and_cut_off() -> None:
    escaped = json.dumps({"content": pem()})
    assert B64[:64] not in redact(escaped) and "[REDACTED:private_key]" in redact(escaped)
    cut = "-----BEGIN RSA PRIVATE KEY-----\n" + B64[:64] + "\n" + B64[-64:] + "\n[output truncated]"
    assert redact(cut) == "[REDACTED:private_key]\n[output truncated]"


def test_public_blocks_and_certificates_are_not_private_keys() -> None:
    text = "-----BEGIN PUBLIC KEY-----\n" + B64[:64] + "\n-----END PUBLIC KEY-----"
    assert find_secrets(text) == []


def test_specific_kind_wins_over_the_assignment_around_it() -> None:
    assert kinds(f'api_key = "{ANTHROPIC}"') == ["anthropic_key"]
    assert kinds(f"GITHUB_TOKEN={GITHUB['ghp']}") == ["github_token"]


def test_matches_are_sorted_and_never_overlap() -> None:
    text = "\n".join([f"token = '{ALNUM}'", JWT, pem(), f"Bearer {BEARER}", AWS_ID, f"x={OPENAI_PROJECT}"] * 3)
    matches = find_secrets(text)
    assert len(matches) == 18
    assert all(a.end <= b.start for a, b in itertools.pairwise(matches))


def test_redaction_is_idempotent() -> None:
    text = f'password = "{PASSWORD}"\n{pem()}\n{JWT}\nhttps://u:{PASSWORD}@h/\nAuthorization: Basic {BASIC}'
    once = redact(text)
    assert redact(once) == once


def test_secret_looking_environment_values_are_redacted_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "Zx9" + "plain-but-private"
    monkeypatch.setenv("MY_SERVICE_TOKEN", value)
    monkeypatch.setenv("DEPLOY_PASSWORD", "short")  # under 8 characters: not looked for
    monkeypatch.setenv("HOME_DIRECTORY", "not-a-secret-name")
    assert redact(f"connecting with {value}!") == "connecting with [REDACTED:env:MY_SERVICE_TOKEN]!"
    assert redact("short and not-a-secret-name stay") == "short and not-a-secret-name stay"


# --------------------------------------------------------------------------- ordinary text stays


@pytest.mark.parametrize(
    "text",
    [
        "password_field = form.password",
        "token_count = 3",
        "max_tokens = 4096",
        "budget_tokens: 8000",
        "def get_token():",
        "def check_password(self, password):",
        "self.token = token",
        "token = get_token()",
        'secret = os.environ["SECRET"]',
        "password = None",
        "token: str",
        "api_key: Optional[str] = None",
        'if password == "x":',
        'password != "letmein"',
        "token := next(tokens)",
        'bypass = "abcdefgh"',
        'password = "${DB_PASSWORD}"',
        'password = f"{prefix}"',
        "password = '****'",
        "PWD=/home/user/project",
        "GOOGLE_APPLICATION_CREDENTIALS=/etc/key.json",
        "The secret to a good key is that the password stays a secret.",
        "Set the API key in your environment; a token is needed. Password: required.",
        "Invalid token: expired",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "run 123e4567-e89b-12d3-a456-426614174000",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "https://user:${PASSWORD}@host/ and http://localhost:8080/path",
        "Basic authentication is required; Bearer tokens are great",
        "Authorization: Bearer YOUR_TOKEN",
        "task-management-system-with-long-name-1",
        "the scikit-learn sk-learn-style estimator",
        "keys = {'key': 'value', 'monkey': 'banana'}",
        "-----BEGIN CERTIFICATE-----",
        'class Field(Enum):\n    PASSWORD = "password"\n    API_KEY = "api-key"',
    ],
)
def test_ordinary_code_and_prose_are_left_alone(text: str) -> None:
    assert find_secrets(text) == []
    assert redact(text) == text


def test_secret_names() -> None:
    for name in ("password", "db_password", "dbPassword", "API_KEY", "apiKey", "client_secret", "token", "pwd"):
        assert is_secret_name(name), name
    for name in ("password_field", "max_tokens", "tokens", "bypass", "key", "monkey", "input_tokens", "handoff"):
        assert not is_secret_name(name), name


# --------------------------------------------------------------------------- speed


def _realistic(size: int) -> str:
    code = Path(__file__).with_name("test_tools.py").read_text(encoding="utf-8")
    prose = "The token budget and the secret of a good key: the password_field = form.password. " * 20
    chunk = code + prose + f'\npassword = "{PASSWORD}"\n{JWT}\n{pem()}\n'
    return (chunk * (size // len(chunk) + 1))[:size]


def _best_of_three(text: str) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        redact(text)
        times.append(time.perf_counter() - started)
    return min(times)


def test_redaction_time_grows_linearly_with_the_text() -> None:
    """Five megabytes take a fraction of a second on a quiet machine; what a test can assert whatever the
    machine is doing is the shape: five times the text costs about five times the time, not twenty-five."""
    one, five = _realistic(1_000_000), _realistic(5_000_000)
    ratio = _best_of_three(five) / _best_of_three(one)
    assert ratio < 10, f"5 MB took {ratio:.1f}x the time of 1 MB"
    out = redact(five)
    assert PASSWORD not in out and JWT not in out


@pytest.mark.parametrize(
    "unit",
    [
        "a",
        " ",
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "password=",
        'password = "',
        "http://a:",
        "sk-",
        "eyJ",
        "key=",
        "Bearer ",
        B64,
    ],
)
def test_adversarial_input_stays_linear(unit: str) -> None:
    text = unit * (500_000 // len(unit))
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 30  # linear: well under a second; quadratic: hours


# --------------------------------------------------------------------------- data and files


def test_redact_data_walks_structures_without_changing_them() -> None:
    data = {
        "handoff": f"use {OPENAI_PROJECT} for the call",
        "password": "plain words here",  # a secret-named key: its value goes whole
        "tokens": 12,
        "nested": [{"note": f"Authorization: Bearer {BEARER}"}, (f"x {AWS_ID}",), None, 3.5],
    }
    original = json.dumps(data)
    out = redact_data(data)
    assert json.dumps(data) == original  # the input is untouched
    assert out["handoff"] == "use [REDACTED:openai_key] for the call"
    assert out["password"] == "[REDACTED:secret_assignment]"
    assert out["tokens"] == 12
    assert out["nested"][0]["note"] == "Authorization: Bearer [REDACTED:authorization]"
    assert out["nested"][1] == ("x [REDACTED:aws_access_key_id]",)
    assert out["nested"][2:] == [None, 3.5]


def test_state_json_is_redacted_on_disk_only(tmp_path: Path) -> None:
    state = RunState("r1", f"deploy with token {GITHUB['ghp']}", "/repo", "/repo/wt", "autodev/r1", "abc123")
    store = StateStore(tmp_path / "state.json", state)
    agent = store.agent("implementer")
    agent.handoff = f'Set password = "{PASSWORD}" in settings.py and use {ANTHROPIC}.'
    store.save()

    on_disk = (tmp_path / "state.json").read_text(encoding="utf-8")
    assert GITHUB["ghp"] not in on_disk and PASSWORD not in on_disk and ANTHROPIC not in on_disk
    saved = json.loads(on_disk)
    assert saved["agents"]["implementer"]["handoff"] == (
        'Set password = "[REDACTED:secret_assignment]" in settings.py and use [REDACTED:anthropic_key].'
    )
    assert saved["request"] == "deploy with token [REDACTED:github_token]"
    # The next agent still gets the handoff as it was written.
    assert store.state.agents["implementer"].handoff == agent.handoff
    assert PASSWORD in store.state.agents["implementer"].handoff
    assert store.state.request.endswith(GITHUB["ghp"])


def test_metrics_are_redacted_on_disk_only(tmp_path: Path) -> None:
    sink = MetricsSink(tmp_path / "run" / "metrics.jsonl", tmp_path / "cache" / "performance_metrics.jsonl")
    record = {"schema": 1, "kind": "timer", "name": f"call with {AWS_ID}", "duration_s": 0.5, "input_tokens": 10}
    sink.write(record)
    for path in (sink.run_file, sink.cache_file):
        assert path is not None
        line = json.loads(path.read_text(encoding="utf-8"))
        assert line["name"] == "call with [REDACTED:aws_access_key_id]"
        assert line["duration_s"] == 0.5 and line["input_tokens"] == 10
    assert sink.records == [record]
    assert record["name"] == f"call with {AWS_ID}"
