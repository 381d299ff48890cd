"""A polyglot-benchmark folder as one suite: every exercise of every language whose toolchain is here.

The layout is Aider's `polyglot-benchmark`: `<language>/exercises/practice/<exercise>/` with the
Exercism files (`.docs/instructions*.md`, `.meta/config.json` naming the solution, test and example
files). Each exercise loads as the Exercism loader reads it (`tasks.load_exercism`: the request from
`.docs/`, the tests and the example hidden from the agents), then gets its language's test command.
Task names are `<language>-<exercise>`, so results of two languages never share a directory.

A language whose toolchain is missing is not an error: it is listed with the reason, and the eval
goes on with the others.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from autodev.apps.eval.polyglot.languages import LANGUAGES, javascript_command
from autodev.apps.eval.tasks import Suite, Task, load_exercism
from autodev.core.errors import UserError

PRACTICE = Path("exercises") / "practice"


@dataclass(frozen=True)
class PolyglotSuite:
    suite: Suite
    languages: tuple[str, ...]  # loaded
    skipped: tuple[tuple[str, str], ...]  # (language, why)


def language_dirs(root: Path) -> list[Path]:
    """The known languages that have exercises under `root` (an empty list: not a polyglot folder)."""
    return [root / name for name in LANGUAGES if (root / name / PRACTICE).is_dir()]


def is_polyglot(root: Path) -> bool:
    return root.is_dir() and bool(language_dirs(root))


def polyglot_task(directory: Path, language: str) -> Task:
    """One exercise, loaded as Exercism's layout says, tested with its language's command."""
    base = load_exercism(directory)
    lang = LANGUAGES[language]
    command, append = lang.command, lang.append_test_files
    links: tuple[tuple[str, Path], ...] = ()
    if language == "javascript":
        command, append = javascript_command(directory)
        modules = directory.parent.parent.parent / "node_modules"  # `npm install` once in javascript/
        if modules.is_dir() and not append:
            links = (("node_modules", modules.resolve()),)
    return replace(
        base,
        name=f"{language}-{directory.name}",
        format="polyglot",
        test_command=command,
        append_test_files=append,
        unskip=lang.unskip,
        language=language,
        links=links,
        timeout_s=180.0 if language in ("rust", "java", "cpp") else base.timeout_s,  # a first build is slow
    )


def load_polyglot(root: Path) -> PolyglotSuite:
    tasks: list[Task] = []
    loaded: list[str] = []
    skipped: list[tuple[str, str]] = []
    for lang_dir in language_dirs(root):
        language = lang_dir.name
        why = LANGUAGES[language].missing()
        if why is not None:
            skipped.append((language, why))
            continue
        exercises = sorted(d for d in (lang_dir / PRACTICE).iterdir() if (d / ".meta" / "config.json").is_file())
        tasks.extend(polyglot_task(d, language) for d in exercises)
        loaded.append(language)
    if not tasks:
        reasons = "; ".join(f"{lang}: {why}" for lang, why in skipped) or "no exercises"
        raise UserError(f"no polyglot exercise can run here ({reasons})", hint="install a language's toolchain")
    name = root.resolve().name
    return PolyglotSuite(Suite(name, root, tuple(tasks)), tuple(loaded), tuple(skipped))
