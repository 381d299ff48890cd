"""A tool call's arguments checked against the tool's JSON schema before the tool runs.

Models get arguments wrong: a required one missing, a name the schema does not have, a number sent as a
string. Each is told back to the model as one error naming what was wrong and what the tool takes, so it
can correct the call in its next turn; the tool never sees arguments its schema rules out. Only what the
tools' schemas use is checked (required, additionalProperties: false, and each argument's JSON type,
`anyOf` included); anything else is left to the tool.
"""

from __future__ import annotations

from collections.abc import Mapping

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict, Mapping),
}


def _fits(value: object, schema: Mapping[str, object]) -> bool:
    """Whether `value` has a JSON type `schema` allows (`type`, a list of types, or `anyOf`); others pass."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        return any(isinstance(o, Mapping) and _fits(value, o) for o in options)
    declared = schema.get("type")
    if not isinstance(declared, str | list):
        return True
    for kind in [declared] if isinstance(declared, str) else declared:
        if kind == "null" and value is None:
            return True
        expected = JSON_TYPES.get(str(kind))
        if expected is None or (isinstance(value, expected) and (kind == "boolean") == isinstance(value, bool)):
            return True
    return False


def argument_problems(schema: Mapping[str, object], args: Mapping[str, object]) -> list[str]:
    """What is wrong with a call's arguments against the tool's schema: missing, unknown or mistyped ones."""
    raw = schema.get("properties")
    properties: Mapping[str, object] = raw if isinstance(raw, Mapping) else {}
    required = schema.get("required")
    problems = (
        [f"missing required argument {n!r}" for n in required or () if n not in args]
        if isinstance(required, list)
        else []
    )
    for name, value in args.items():
        spec = properties.get(name)
        if not isinstance(spec, Mapping):
            if schema.get("additionalProperties") is False:
                problems.append(f"unknown argument {name!r}")
        elif not _fits(value, spec):
            problems.append(f"{name!r} must be of type {_type_name(spec)}, not {_json_type(value)}")
            continue
        surrogate = _lone_surrogate(value)
        if surrogate is not None:
            problems.append(
                f"{name!r} is not valid Unicode: it holds the lone surrogate \\u{ord(surrogate):04x} "
                "(bytes that are not UTF-8); send UTF-8 text"
            )
    return problems


def _lone_surrogate(value: object) -> str | None:
    """The first lone surrogate in a string anywhere inside `value` (walked without recursion), or None.

    A model's bad bytes arrive as such: no file name, content or command can hold one, and every file the
    run writes is UTF-8, so the call is refused and the model told, instead of a crashed run.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found = next((char for char in item if "\ud800" <= char <= "\udfff"), None)
            if found is not None:
                return found
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return next((kind for kind, types in JSON_TYPES.items() if isinstance(value, types)), type(value).__name__)


def _type_name(schema: Mapping[str, object]) -> str:
    options = schema.get("anyOf")
    if isinstance(options, list):
        return " or ".join(_type_name(o) for o in options if isinstance(o, Mapping))
    declared = schema.get("type")
    return " or ".join(map(str, declared)) if isinstance(declared, list) else str(declared or "any")


def describe_parameters(schema: Mapping[str, object]) -> str:
    """`file_path (string, required), offset (integer)`: a tool's parameters, for an error message."""
    raw, required = schema.get("properties"), schema.get("required")
    properties: Mapping[str, object] = raw if isinstance(raw, Mapping) else {}
    needed = set(required) if isinstance(required, list) else set()
    described = [
        f"{name} ({_type_name(spec) if isinstance(spec, Mapping) else 'any'}{', required' if name in needed else ''})"
        for name, spec in properties.items()
    ]
    return ", ".join(described) or "none"
