"""`actual --calibrate --write`: observed assumptions written into `Pulumi.<stack>.yaml` by a
targeted text edit (every other line and every comment kept), checked before the file is
replaced."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from costmodel.actual.calibrate import DECIMALS
from settings.load import ConfigError, parse

PROJECT_KEY = "eda-platform:assumptions"


class StackFileError(ValueError):
    """The stack file cannot be edited safely; the message says why and what to do by hand."""


def _number(value: float) -> str:
    """A YAML float PyYAML and Pulumi read back as a number: 0.0213, 1, 0."""
    text = f"{value:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return text or "0"


# A mapping key line: the key ends at the first colon followed by a blank or the line's end, so
# namespaced keys (eda-platform:assumptions) keep their own colon.
_KEY = re.compile(r"^(?P<indent> *)(?P<key>\"[^\"]*\"|'[^']*'|[^\s#'\"][^#]*?):(?P<rest>\s.*|)$")


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _split_comment(rest: str) -> tuple[str, str]:
    """`value  # note` -> ("value", "  # note"): a # after whitespace starts a comment."""
    match = re.search(r"\s+#.*$", rest)
    return (rest[: match.start()], rest[match.start():]) if match else (rest, "")


def set_assumptions(text: str, values: dict[str, float], origin: str = "the stack file") -> str:
    """`text` with `values` set under `config: eda-platform:assumptions:`; every other line, and
    every comment, as it was. Existing keys change in place (their end-of-line comment kept),
    new ones go at the end of the block, and a missing block is added at the end of `config:`."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    config_at = next(
        (i for i, line in enumerate(lines) if re.match(r"^config:\s*(#.*)?$", line)), None
    )
    if config_at is None:
        raise StackFileError(
            f"{origin} has no top-level `config:` block to put the assumptions in"
        )
    end = next(  # the next top-level key, or the end of the file
        (i for i in range(config_at + 1, len(lines))
         if _content(lines[i]) and not _indent(lines[i])),
        len(lines),
    )
    keys = [i for i in range(config_at + 1, end) if _content(lines[i])]
    key_indent = _indent(lines[keys[0]]) if keys else 2
    block_at = next(
        (i for i in keys if _indent(lines[i]) == key_indent and _key(lines[i]) == PROJECT_KEY), None
    )
    if block_at is None:
        last = keys[-1] if keys else config_at
        pad = " " * key_indent
        added = [f"{pad}{PROJECT_KEY}:"]
        added += [f"{pad * 2}{k}: {_number(v)}" for k, v in values.items()]
        lines[last + 1 : last + 1] = added
    else:
        _edit_block(lines, block_at, end, key_indent, values, origin)
    return newline.join(lines) + (newline if text.endswith(("\n", "\r")) or not text else "")


def _key(line: str) -> str | None:
    match = _KEY.match(line)
    return match["key"].strip("\"'") if match else None


def _edit_block(lines: list[str], at: int, end: int, key_indent: int, values: dict[str, float],
                origin: str) -> None:
    match = _KEY.match(lines[at])
    value, comment = _split_comment(match["rest"])
    value = value.strip()
    if value.startswith("{") and value.endswith("}"):  # a flow mapping on one line
        merged = {**(yaml.safe_load(value) or {}), **values}
        body = ", ".join(
            f"{k}: {_number(v) if k in values else json.dumps(v)}" for k, v in merged.items()
        )
        lines[at] = f"{match['indent']}{match['key']}: {{{body}}}{comment}"
        return
    if value:
        raise StackFileError(
            f"{origin}: {PROJECT_KEY} is neither a block nor a one-line flow mapping "
            f"({value!r}); set {', '.join(values)} there by hand"
        )
    block_end = at  # the block's last line of content; comments after it belong to what follows
    for i in range(at + 1, end):
        if _content(lines[i]):
            if _indent(lines[i]) <= key_indent:
                break
            block_end = i
    children = [i for i in range(at + 1, block_end + 1) if _content(lines[i])]
    child_indent = _indent(lines[children[0]]) if children else key_indent * 2 or 2
    pending = dict(values)
    for i in children:
        if _indent(lines[i]) != child_indent:
            continue
        match = _KEY.match(lines[i])
        name = match and match["key"].strip("\"'")
        if name in pending:
            old, note = _split_comment(match["rest"])
            if old.strip() in ("", "|", ">") or old.strip().startswith(("{", "[")):
                raise StackFileError(
                    f"{origin}: {PROJECT_KEY}.{name} is not a number; set it by hand"
                )
            lines[i] = f"{match['indent']}{match['key']}: {_number(pending.pop(name))}{note}"
    added = [f"{' ' * child_indent}{k}: {_number(v)}" for k, v in pending.items()]
    lines[block_end + 1 : block_end + 1] = added


def write_assumptions(path: Path, stack: str, values: dict[str, float]) -> str:
    """Edit `path` in place and check the result: the file parses, its assumptions are the
    old ones with `values` set, nothing else changed, and the stack config still validates.
    Returns the new text; on any doubt the file is left untouched."""
    old_text = path.read_text()
    new_text = set_assumptions(old_text, values, origin=path.name)
    old = (yaml.safe_load(old_text) or {}).get("config") or {}
    try:
        new = (yaml.safe_load(new_text) or {}).get("config") or {}
    except yaml.YAMLError as exc:  # a bug in the edit, not the user's: refuse to write
        raise StackFileError(
            f"editing {path.name} would break its YAML ({exc}); left unchanged"
        ) from None
    expected = {**old, PROJECT_KEY: {**(old.get(PROJECT_KEY) or {}), **values}}
    if new != expected:
        raise StackFileError(
            f"editing {path.name} would change more than {PROJECT_KEY}; left unchanged: set "
            + ", ".join(f"{k}: {_number(v)}" for k, v in values.items())
            + " there by hand"
        )
    try:
        parse(new, stack=stack, origin=path.name)
    except ConfigError as exc:
        raise StackFileError(f"{exc}; {path.name} left unchanged") from None
    path.write_text(new_text)
    return new_text
