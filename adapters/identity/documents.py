"""Reading values out of JSON documents (users, token payloads) by configurable dotted field paths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def lookup(document: object, path: str) -> object | None:
    """The value at a dotted `path`, or None when any step is missing.

    A key that itself contains dots, like the Auth0 namespaced claim "https://mia-platform.eu/app_metadata",
    is matched whole before being split, so "https://mia-platform.eu/app_metadata.groups" reaches its groups.
    """
    return _walk(document, path.split("."))


def _walk(node: object, segments: list[str]) -> object | None:
    if not segments:
        return node
    if not isinstance(node, Mapping):
        return None
    # Longest key first; paths come from configuration and have a handful of segments, so backtracking is cheap.
    for cut in range(len(segments), 0, -1):
        key = ".".join(segments[:cut])
        if key in node:
            found = _walk(node[key], segments[cut:])
            if found is not None:
                return found
    return None


def first_text(document: object, paths: Iterable[str]) -> str | None:
    """The first non-blank string found along `paths`, stripped."""
    for path in paths:
        value = lookup(document, path)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def first_groups(document: object, paths: Iterable[str]) -> tuple[str, ...]:
    """The groups at the first path holding a list or a comma-separated string; () when none does."""
    for path in paths:
        groups = as_groups(lookup(document, path))
        if groups is not None:
            return groups
    return ()


def as_groups(value: object) -> tuple[str, ...] | None:
    """Group names from a list of strings or a comma-separated string (blanks and repeats dropped)."""
    if isinstance(value, str):
        items: Iterable[object] = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        return None
    names = (item.strip() for item in items if isinstance(item, str))
    return tuple(dict.fromkeys(name for name in names if name))


def as_id(value: object) -> str | None:
    """An identifier as text: a non-blank string or an integer (never a bool, float or structure)."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
