"""Short notes in a plain-text file."""

from __future__ import annotations

from pathlib import Path


def add(store: Path, note: str) -> None:
    with store.open("a", encoding="utf-8") as handle:
        handle.write(note.replace("\n", " ") + "\n")


def find(store: Path, word: str) -> list[str]:
    if not store.exists():
        return []
    return [line for line in store.read_text(encoding="utf-8").splitlines() if word.lower() in line.lower()]
