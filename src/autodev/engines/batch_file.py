"""The batch file and the per-feature result every engine reports, in one shape.

A batch file holds one request per line, or JSON lines with `request` and optional `repo` and `id`.
Blank lines and lines starting with `#` are skipped. Everything is checked before anything runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autodev.core.errors import UserError


@dataclass(frozen=True)
class Feature:
    id: str
    request: str
    repo: Path


@dataclass
class FeatureResult:
    id: str
    request: str
    repo: str
    status: str  # done | failed | interrupted | error (could not start)
    run_id: str | None = None
    branch: str | None = None
    commit: str | None = None
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float | None = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _feature_id(request: str, line_no: int) -> str:
    return f"f{line_no:03d}-{hashlib.sha1(request.encode()).hexdigest()[:6]}"


def parse_batch(path: Path, default_repo: Path) -> list[Feature]:
    """Read a batch file; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(
            f"cannot read batch file {path}: {exc.strerror}", hint="pass a file with one request per line"
        ) from exc
    except UnicodeDecodeError as exc:
        line_no = exc.object[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path}:{line_no}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x})",
            hint="save the batch file as UTF-8",
        ) from None
    features: list[Feature] = []
    seen: set[str] = set()
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{line_no}"
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(
                    f"{where}: not valid JSON: {exc.msg}", hint='write {"request": "..."} or a plain line'
                ) from exc
            except RecursionError:
                raise UserError(
                    f"{where}: not valid JSON: nested too deeply", hint='write {"request": "..."} or a plain line'
                ) from None
            unknown = set(data) - {"request", "repo", "id"}
            if unknown:
                raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}", hint="keys: request, repo, id")
            request = data.get("request")
            if not isinstance(request, str) or not request.strip():
                raise UserError(f"{where}: `request` must be a non-empty string")
            repo_value = data.get("repo")
            repo = (path.parent / repo_value).resolve() if isinstance(repo_value, str) else default_repo
            feature_id = str(data.get("id") or _feature_id(request, line_no))
        else:
            request, repo, feature_id = line, default_repo, _feature_id(line, line_no)
        if feature_id in seen:
            raise UserError(f"{where}: id {feature_id!r} is used twice", hint="give every feature its own id")
        seen.add(feature_id)
        features.append(Feature(feature_id, request.strip(), repo))
    if not features:
        raise UserError(f"{path} holds no requests", hint="write one request per line")
    return features
