"""Dependency changes, for the security-auditor: which requirements the change adds, removes or re-pins.

Each manifest is parsed at the base commit and in the worktree, and the two requirement sets are
compared entry by entry (`section:name` -> the requirement as written). A manifest that does not parse
falls back to its added and removed lines. Lock files are summarised per package, never line by line.
"""

from __future__ import annotations

import ast
import configparser
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from autodev.agent.analysers.base import AnalyserResult, AnalysisInput, ChangedFile, Finding, Severity, inside, result
from autodev.core.gitops import git

Requirements = dict[str, str]  # "section:name" -> the requirement as written
Parser = Callable[[str], Requirements]

FALLBACK_LINES = 15  # added/removed lines listed per unparseable manifest
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_DIRECT = re.compile(r"(?:\bgit\+|\b(?:https?|file|ssh)://|\s@\s|^@|\bpath\s*=|\bgit\s*=|\burl\s*=|\bfile:)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pep508(section: str, items: Iterable[Any]) -> Requirements:
    out: Requirements = {}
    for item in items:
        if not isinstance(item, str):  # e.g. {include-group = "..."} in dependency-groups
            item = json.dumps(item, sort_keys=True)
        match = _NAME.match(item)
        out[f"{section}:{_norm(match.group(1)) if match else item.strip()}"] = item.strip()
    return out


def _table(section: str, table: Mapping[str, Any]) -> Requirements:
    out: Requirements = {}
    for name, spec in table.items():
        shown = spec if isinstance(spec, str) else json.dumps(spec, sort_keys=True)
        out[f"{section}:{_norm(name)}"] = f"{name} {shown}"
    return out


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_pyproject(text: str) -> Requirements:
    data = tomllib.loads(text)
    project = _dict(data.get("project"))
    out = _pep508("dependencies", _list(project.get("dependencies")))
    for extra, items in _dict(project.get("optional-dependencies")).items():
        out |= _pep508(f"optional-dependencies.{extra}", _list(items))
    for group, items in _dict(data.get("dependency-groups")).items():
        out |= _pep508(f"dependency-groups.{group}", _list(items))
    out |= _pep508("build-system.requires", _list(_dict(data.get("build-system")).get("requires")))
    tool = _dict(data.get("tool"))
    out |= _pep508("tool.uv.dev-dependencies", _list(_dict(tool.get("uv")).get("dev-dependencies")))
    poetry = _dict(tool.get("poetry"))
    for key in ("dependencies", "dev-dependencies"):
        out |= _table(f"tool.poetry.{key}", _dict(poetry.get(key)))
    for group, body in _dict(poetry.get("group")).items():
        out |= _table(f"tool.poetry.group.{group}", _dict(_dict(body).get("dependencies")))
    return out


def parse_requirements_txt(text: str) -> Requirements:
    lines = re.sub(r"\\\n", " ", text).splitlines()
    items = []
    for line in lines:
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            items.append(line)
    out = _pep508("requirements", [i for i in items if not i.startswith("-")])
    out |= {f"options:{i}": i for i in items if i.startswith("-")}
    return out


def parse_setup_cfg(text: str) -> Requirements:
    config = configparser.ConfigParser(interpolation=None)
    config.read_string(text)
    out: Requirements = {}
    for key in ("install_requires", "setup_requires", "tests_require"):
        if config.has_option("options", key):
            out |= _pep508(key, config.get("options", key).split("\n"))
    if config.has_section("options.extras_require"):
        for extra, value in config.items("options.extras_require"):
            out |= _pep508(f"extras_require.{extra}", value.split("\n"))
    return {k: v for k, v in out.items() if v}


def parse_setup_py(text: str) -> Requirements:
    out: Requirements = {}
    found = False
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg not in ("install_requires", "setup_requires", "tests_require", "extras_require"):
                continue
            try:
                value = ast.literal_eval(keyword.value)
            except ValueError:
                continue
            found = True
            if isinstance(value, dict):
                for extra, items in value.items():
                    out |= _pep508(f"extras_require.{extra}", [items] if isinstance(items, str) else items)
            else:
                out |= _pep508(keyword.arg, [value] if isinstance(value, str) else value)
    if not found:
        raise ValueError("no literal install_requires/extras_require")
    return out


def parse_pipfile(text: str) -> Requirements:
    data = tomllib.loads(text)
    return _table("packages", _dict(data.get("packages"))) | _table("dev-packages", _dict(data.get("dev-packages")))


def parse_package_json(text: str) -> Requirements:
    data = _dict(json.loads(text))
    out: Requirements = {}
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        out |= {f"{key}:{name}": f"{name} {spec}" for name, spec in _dict(data.get(key)).items()}
    return out


def parse_cargo_toml(text: str) -> Requirements:
    data = tomllib.loads(text)
    out: Requirements = {}
    for key in ("dependencies", "dev-dependencies", "build-dependencies"):
        out |= _table(key, _dict(data.get(key)))
        for target, body in _dict(data.get("target")).items():
            out |= _table(f"target.{target}.{key}", _dict(_dict(body).get(key)))
    out |= _table("workspace.dependencies", _dict(_dict(data.get("workspace")).get("dependencies")))
    return out


def parse_go_mod(text: str) -> Requirements:
    out: Requirements = {}
    block: str | None = None
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if block:
            if line == ")":
                block = None
            else:
                out[f"{block}:{line.split()[0]}"] = line
            continue
        word, _, rest = line.partition(" ")
        if word in ("require", "replace", "exclude"):
            rest = rest.strip()
            if rest == "(":
                block = word
            elif rest:
                out[f"{word}:{rest.split()[0]}"] = rest
    return out


def parse_gemfile(text: str) -> Requirements:
    gems = re.finditer(r"""^\s*gem\s+['"]([^'"]+)['"](.*)$""", text, re.MULTILINE)
    return {f"gems:{m.group(1)}": f"{m.group(1)}{m.group(2).rstrip()}" for m in gems}


def parse_toml_lock(text: str) -> Requirements:
    versions: dict[str, list[str]] = {}
    for package in _list(tomllib.loads(text).get("package")):
        package = _dict(package)
        versions.setdefault(str(package.get("name")), []).append(str(package.get("version", "?")))
    return {f"lock:{name}": f"{name} {', '.join(sorted(v))}" for name, v in versions.items()}


def parse_package_lock(text: str) -> Requirements:
    data = _dict(json.loads(text))
    packages = _dict(data.get("packages")) or _dict(data.get("dependencies"))
    out: Requirements = {}
    for path, body in packages.items():
        if path:
            name = path.rsplit("node_modules/", 1)[-1]
            out[f"lock:{path}"] = f"{name} {_dict(body).get('version', '?')}"
    return out


def parse_pipfile_lock(text: str) -> Requirements:
    data = _dict(json.loads(text))
    return {
        f"lock.{section}:{name}": f"{name} {_dict(body).get('version', '?')}"
        for section in ("default", "develop")
        for name, body in _dict(data.get(section)).items()
    }


MANIFESTS: dict[str, Parser] = {
    "pyproject.toml": parse_pyproject,
    "setup.cfg": parse_setup_cfg,
    "setup.py": parse_setup_py,
    "Pipfile": parse_pipfile,
    "package.json": parse_package_json,
    "Cargo.toml": parse_cargo_toml,
    "go.mod": parse_go_mod,
    "Gemfile": parse_gemfile,
}
LOCKS: dict[str, Parser | None] = {
    "poetry.lock": parse_toml_lock,
    "uv.lock": parse_toml_lock,
    "pdm.lock": parse_toml_lock,
    "Cargo.lock": parse_toml_lock,
    "package-lock.json": parse_package_lock,
    "npm-shrinkwrap.json": parse_package_lock,
    "Pipfile.lock": parse_pipfile_lock,
    "yarn.lock": None,
    "pnpm-lock.yaml": None,
    "go.sum": None,
    "Gemfile.lock": None,
}


def manifest_kind(path: str) -> tuple[str, Parser | None] | None:
    """("manifest" | "lock", parser) for a dependency file, None for any other file."""
    p = PurePosixPath(path)
    if p.name in MANIFESTS:
        return "manifest", MANIFESTS[p.name]
    if p.name in LOCKS:
        return "lock", LOCKS[p.name]
    requirements_like = re.fullmatch(r"(requirements|constraints)[\w.-]*\.(txt|in)", p.name)
    if requirements_like or (p.suffix in (".txt", ".in") and "requirements" in p.parts[:-1]):
        return "manifest", parse_requirements_txt
    return None


def _old_text(inp: AnalysisInput, f: ChangedFile) -> str:
    if f.status == "A":
        return ""
    shown = git(["show", f"{inp.base}:{f.old_path or f.path}"], inp.worktree, check=False)
    return shown.stdout if shown.returncode == 0 else ""


def _new_text(inp: AnalysisInput, f: ChangedFile) -> str:
    if f.status == "D":
        return ""
    path = inside(inp.worktree, f.path)
    return path.read_text(encoding="utf-8", errors="replace") if path is not None else ""


def _line_of(text: str, *needles: str) -> int | None:
    lines = text.splitlines()
    for needle in needles:
        for number, line in enumerate(lines, 1):
            if needle and needle in line:
                return number
    return None


def _direct(spec: str) -> bool:
    return bool(_DIRECT.search(spec))


def compare(path: str, old: Requirements, new: Requirements, new_text: str, lock: bool) -> list[Finding]:
    findings = []
    for key in sorted(new.keys() - old.keys()):
        spec = new[key]
        section = key.split(":", 1)[0]
        severity: Severity = "info" if lock else "medium"
        message = f"added {spec!r} ({section})"
        if not lock and _direct(spec):
            severity, message = "high", message + ": installed from a URL, VCS or path, not a package index"
        name = spec.split()[0] if spec.split() else spec
        findings.append(
            Finding(path, _line_of(new_text, spec, f'"{name}"', name), "dependency-added", message, severity)
        )
    for key in sorted(old.keys() & new.keys()):
        if old[key] != new[key]:
            section = key.split(":", 1)[0]
            severity = "high" if not lock and _direct(new[key]) and not _direct(old[key]) else "low"
            if lock:
                severity = "info"
            message = f"changed {old[key]!r} -> {new[key]!r} ({section})"
            findings.append(Finding(path, _line_of(new_text, new[key]), "dependency-changed", message, severity))
    for key in sorted(old.keys() - new.keys()):
        message = f"removed {old[key]!r} ({key.split(':', 1)[0]})"
        findings.append(Finding(path, None, "dependency-removed", message, "info"))
    return findings


def _line_changes(path: str, old_text: str, new_text: str, lock: bool) -> list[Finding]:
    old_lines, new_lines = set(old_text.splitlines()), set(new_text.splitlines())
    added = [line for line in new_text.splitlines() if line.strip() and line not in old_lines]
    removed = [line for line in old_text.splitlines() if line.strip() and line not in new_lines]
    if lock:
        message = f"lock file changed: {len(added)} line(s) added, {len(removed)} removed"
        return [Finding(path, None, "lock-changed", message, "info")]
    findings = [
        Finding(path, _line_of(new_text, line), "line-added", line.strip()[:200], "low")
        for line in added[:FALLBACK_LINES]
    ]
    findings += [Finding(path, None, "line-removed", line.strip()[:200], "info") for line in removed[:FALLBACK_LINES]]
    left = max(0, len(added) - FALLBACK_LINES) + max(0, len(removed) - FALLBACK_LINES)
    if left:
        findings.append(Finding(path, None, "lines-omitted", f"{left} more changed line(s) not listed", "info"))
    return findings


def dependencies(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
    manifests: list[Finding] = []
    locks: list[Finding] = []
    notes = []
    seen = []
    for f in inp.changed:
        kind = manifest_kind(f.path)
        if kind is None:
            continue
        seen.append(f.path)
        is_lock, parser = kind[0] == "lock", kind[1]
        old_text, new_text = _old_text(inp, f), _new_text(inp, f)
        target = locks if is_lock else manifests
        if parser is None:
            target += _line_changes(f.path, old_text, new_text, is_lock)
            continue
        try:
            old = parser(old_text) if old_text.strip() else {}
            new = parser(new_text) if new_text.strip() else {}
        except (ValueError, TypeError, AttributeError, SyntaxError, configparser.Error, RecursionError) as exc:
            notes.append(f"{f.path} did not parse ({type(exc).__name__}); listed by changed lines")
            target += _line_changes(f.path, old_text, new_text, is_lock)
            continue
        target += compare(f.path, old, new, new_text, is_lock)
    if not seen:
        return AnalyserResult("dependencies", "ok", [], "no dependency manifest or lock file changed")
    note = "; ".join([f"dependency files in the change: {', '.join(seen)}", *notes])
    return result("dependencies", manifests + locks, note)
