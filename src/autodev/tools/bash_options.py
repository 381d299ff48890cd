"""Command-line options as the programs themselves read them, so a rule sees what the program will see.

A deny-list that scans words for `--check` or `-o` is fooled by the ways programs actually parse: `--`
ends the options (`ruff format -- --check f` formats a file named `--check`), a value may be glued to
its short option (`sort -oOUT`, `grep -fLIST`) or follow as the next word (`--files0-from LIST`), long
options may be abbreviated (`--outp=x` is `--output=x` to getopt_long), and short options cluster
(`-ro OUT`). `parse` reads an argument vector the way GNU getopt_long (or clap, with
`abbreviations=False`) does, against an allow-list: an option the program's `Options` does not name is
refused, so options we never reviewed cannot run. What comes back says which words are option values
that name files and which are operands, for the caller to resolve through the `Workspace`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class OptionRefused(Exception):
    """An option the program may not be given here; the message goes back to the model."""


def words(text: str) -> frozenset[str]:
    """`"all almost-all"` -> {"all", "almost-all"}: option tables read as plain text."""
    return frozenset(text.split())


@dataclass(frozen=True)
class Options:
    """The options one program may be given, and which of their values are file names.

    Short options are letters; long options are names without the leading `--`. A value-taking option
    takes its value glued (`-n5`, `--lines=5`) or from the next word (`-n 5`, `--lines 5`); an optional
    one (`long_optional`) only glued with `=`. `refused` maps an option (`-o`, `--output`) to why it is
    refused; it is checked before anything else, abbreviations included.
    """

    flags: str = ""
    values: str = ""
    paths: str = ""  # short options whose value names a file to read
    long_flags: frozenset[str] = frozenset()
    long_values: frozenset[str] = frozenset()
    long_optional: frozenset[str] = frozenset()
    long_paths: frozenset[str] = frozenset()
    refused: Mapping[str, str] = field(default_factory=dict)
    numbers: bool = False  # `-5` as in `head -5` or `grep -2`
    abbreviations: bool = True  # getopt_long accepts unique prefixes of long options; clap does not

    def long_names(self) -> frozenset[str]:
        refused = {name[2:] for name in self.refused if name.startswith("--")}
        return self.long_flags | self.long_values | self.long_optional | self.long_paths | refused


@dataclass
class Parsed:
    """An argument vector read against `Options`: which options were given, what names files."""

    options: list[tuple[str, str | None]] = field(default_factory=list)  # ("-o" or "--output", value)
    operands: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # option values that name files

    def given(self, *names: str) -> bool:
        return any(name in names for name, _ in self.options)

    def values_of(self, *names: str) -> list[str]:
        return [value for name, value in self.options if name in names and value is not None]


def _long_match(program: str, spec: Options, name: str) -> str:
    known = spec.long_names()
    if name in known:
        return name
    matches = sorted(known_name for known_name in known if known_name.startswith(name)) if spec.abbreviations else []
    refused = [match for match in matches if f"--{match}" in spec.refused]
    if refused:
        return refused[0]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise OptionRefused(f"{program} --{name} is ambiguous ({', '.join('--' + m for m in matches)}); spell it out")
    raise OptionRefused(f"{program} --{name} is not an option this tool allows for {program}")


def _refuse(program: str, spec: Options, option: str, arg: str) -> None:
    why = spec.refused.get(option)
    if why is not None:
        shown = arg if arg.startswith("--") else option + ("" if arg == option else f" (in {arg})")
        raise OptionRefused(f"{program} {shown} is not allowed: {why}")


def parse(program: str, spec: Options, args: list[str]) -> Parsed:
    """Read `args` like the program would; raise `OptionRefused` for an option it may not be given."""
    parsed, index, ended = Parsed(), 0, False
    while index < len(args):
        arg = args[index]
        index += 1
        if ended or arg == "-" or not arg.startswith("-"):
            parsed.operands.append(arg)
        elif arg == "--":
            ended = True
        elif arg.startswith("--"):
            name, glued, value = arg[2:].partition("=")
            full = _long_match(program, spec, name)
            _refuse(program, spec, f"--{full}", arg)
            if full in spec.long_flags:
                if glued:
                    raise OptionRefused(f"{program} --{full} takes no value")
                parsed.options.append((f"--{full}", None))
                continue
            if not glued and full not in spec.long_optional:
                if index >= len(args):
                    raise OptionRefused(f"{program} --{full} needs a value")
                value, index = args[index], index + 1
            parsed.options.append((f"--{full}", value if glued or full not in spec.long_optional else None))
            if full in spec.long_paths:
                parsed.paths.append(value)
        elif spec.numbers and arg[1:].isdigit():
            parsed.options.append(("-NUM", arg[1:]))
        else:
            index = _short_cluster(program, spec, arg, args, index, parsed)
    return parsed


def _short_cluster(program: str, spec: Options, arg: str, args: list[str], index: int, parsed: Parsed) -> int:
    """Read `-abc` (letters, then perhaps a glued value); return where the next word starts."""
    position = 1
    while position < len(arg):
        letter = arg[position]
        position += 1
        _refuse(program, spec, f"-{letter}", arg)
        if letter in spec.flags:
            parsed.options.append((f"-{letter}", None))
            continue
        if letter not in spec.values and letter not in spec.paths:
            raise OptionRefused(f"{program} -{letter} is not an option this tool allows for {program}")
        value = arg[position:]
        if not value:
            if index >= len(args):
                raise OptionRefused(f"{program} -{letter} needs a value")
            value, index = args[index], index + 1
        parsed.options.append((f"-{letter}", value))
        if letter in spec.paths:
            parsed.paths.append(value)
        break
    return index
