"""`autodev context REQUEST`'s output: the snippets the agents would receive, or (`--paths-only`) the files.

The snippets are what retrieval is for; paths and scores alone leave a reader guessing which lines of
a file were chosen and whether a cut snippet kept the part that matters.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape as esc

from autodev.agent.context.retrieval import ContextPack, Snippet
from autodev.apps.cli.common import out
from autodev.core.redact import redact


def pack_json(pack: ContextPack, *, paths_only: bool) -> dict[str, Any]:
    """The pack as JSON: its files and total, and (unless `paths_only`) each snippet with its lines."""
    data = pack.to_json()
    if not paths_only:
        data["snippets"] = [
            {"path": s.path, "start": s.start, "end": s.end, "label": s.label, "cut": s.cut, "text": s.text}
            for s in pack.snippets
        ]
    return data


def print_pack(pack: ContextPack, *, paths_only: bool) -> None:
    """The summary line, then each file with its snippets (or, `paths_only`, one line per file)."""
    out.print(
        f"[bold]autodev context[/]: {len(pack.files)} files, {pack.total_tokens:,} of {pack.budget:,} tokens",
        highlight=False,
    )
    if paths_only or not pack.files:
        if pack.files:
            out.print(f"[dim]{'score':>9} {'tokens':>7}  path[/]")
        for row in pack.files:
            out.print(f"{row['score']:>9.3f} {row['tokens']:>7,}  {esc(redact(row['path']))}", highlight=False)
        return
    by_path: dict[str, list[Snippet]] = {}
    for snippet in pack.snippets:
        by_path.setdefault(snippet.path, []).append(snippet)
    for row in pack.files:
        out.print(
            f"\n[bold]{esc(redact(row['path']))}[/]  [dim]score {row['score']:.3f}, {row['tokens']:,} tokens[/]",
            highlight=False,
        )
        for snippet in sorted(by_path.get(row["path"], []), key=lambda s: s.start):
            where = f"lines {snippet.start}-{snippet.end}" + (f" ({snippet.label})" if snippet.label else "")
            cut = " [dim](cut to fit the budget)[/]" if snippet.cut else ""
            out.print(f"[cyan]{esc(where)}[/]{cut}", highlight=False)
            out.print(esc(redact(snippet.text)), highlight=False)
