"""The oracle's answer for an instance: the files its gold `patch` changes, as they are once applied.

The oracle model writes files with the implementer's own tool calls, so the gold patch is turned into
files: applied in a throwaway clone of the instance's repository, every file it adds or changes read
back. (A file the patch deletes cannot be written away; no instance of the fixtures deletes one.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from autodev.apps.eval.models import PolicyProvider, oracle_provider
from autodev.core import gitops
from autodev.core.errors import UserError


def gold_files(repo: Path, patch: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="autodev-swebench-gold-") as scratch:
        copy = Path(scratch) / "copy"
        gitops.git(["clone", "--quiet", "--no-hardlinks", str(repo), str(copy)], Path(scratch))
        patch_file = Path(scratch) / "gold.diff"
        patch_file.write_text(patch, encoding="utf-8")
        applied = gitops.git(["apply", "--whitespace=nowarn", str(patch_file)], copy, check=False)
        if applied.returncode != 0:
            raise UserError(f"the gold patch does not apply at base_commit: {applied.stderr.strip()[:300]}")
        gitops.git(["add", "-A"], copy)
        names = gitops.git(["diff", "--cached", "--name-only", "--diff-filter=AM", "-z"], copy).stdout
        return {name: (copy / name).read_text(encoding="utf-8") for name in names.split("\0") if name}


def gold_provider(repo: Path, patch: str) -> PolicyProvider:
    return oracle_provider(gold_files(repo, patch))
