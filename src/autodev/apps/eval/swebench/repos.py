"""Each instance's repository: a local clone (`--repos DIR`) or one cloned from GitHub once, and the
fresh copy the pipeline runs in.

The copy is a shallow fetch of `base_commit` alone into a new repository: the agents get the project
exactly as it was (the same commit id, so the diff applies where the official harness applies it) and
none of its later history, where the fix and its tests live.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autodev.apps.eval.swebench.dataset import Instance
from autodev.apps.eval.workspace import dump_toml, load_user_config
from autodev.config.trust import trust_own_fixture
from autodev.core import gitops
from autodev.core.errors import UserError

GITHUB = "https://github.com/{repo}.git"
CLONE_TIMEOUT_S = 1800
UPLOAD_PACK = "git -c uploadpack.allowAnySHA1InWant=true upload-pack"  # fetch one commit by its id

__all__ = ["clone_cache", "load_user_config", "make_instance_repo", "source_repo"]


def clone_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autodev" / "swebench-repos"


def source_repo(instance: Instance, repos: Path | None) -> Path:
    """The local clone of the instance's repository: `DIR/owner__name` or `DIR/owner/name`, else a
    clone of GitHub's made once in the cache (the only step of an eval that needs the network)."""
    flat = instance.repo.replace("/", "__")
    if repos is not None:
        for candidate in (repos / flat, repos / instance.repo):
            if (candidate / ".git").exists():
                return candidate
        raise UserError(
            f"no clone of {instance.repo} in {repos}",
            hint=f"clone it as {repos / flat} (git clone https://github.com/{instance.repo} {repos / flat})",
        )
    target = clone_cache() / flat
    if not (target / ".git").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        argv = gitops.git_argv(["clone", "--quiet", GITHUB.format(repo=instance.repo), str(target)], target.parent)
        try:  # a large repository takes minutes: not git's usual short timeout
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=CLONE_TIMEOUT_S, env=gitops.git_env(), check=False
            )
        except subprocess.TimeoutExpired:
            done = None
        if done is None or done.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            why = done.stderr.strip()[:200] if done is not None else f"timed out after {CLONE_TIMEOUT_S}s"
            raise UserError(f"could not clone {instance.repo}: {why}", hint="pass --repos DIR of local clones")
    return target


def make_instance_repo(instance: Instance, source: Path, dest: Path, user_config: Mapping[str, Any] | None) -> str:
    """A new repository at `dest` holding `base_commit` alone, checked out on `main`; returns it."""
    if gitops.git(["cat-file", "-e", f"{instance.base_commit}^{{commit}}"], source, check=False).returncode != 0:
        raise UserError(
            f"{instance.instance_id}: {source} has no commit {instance.base_commit[:12]}",
            hint="update the clone (git fetch) or point --repos at a full clone",
        )
    dest.mkdir(parents=True)
    gitops.git(["init", "--quiet", "--initial-branch=main"], dest)
    url = source.resolve().as_uri()
    gitops.git(["fetch", "--quiet", "--depth=1", f"--upload-pack={UPLOAD_PACK}", url, instance.base_commit], dest)
    gitops.git(["checkout", "--quiet", "-B", "main", instance.base_commit], dest)
    config = dict(user_config or {})
    if config:
        path = dest / ".autodev" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_toml(config), encoding="utf-8")
        trust_own_fixture(dest)
    return gitops.head_commit(dest)
