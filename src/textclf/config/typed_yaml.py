"""Frozen dataclasses from YAML, checked: the first missing, unknown, mistyped or non-finite
value stops with one line naming its key and the line of the file it is on."""

from __future__ import annotations

import dataclasses
import math
import re
import reprlib
import types
import typing
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode

from textclf.config.errors import ParamsError

# Values are echoed in errors: bounded, so that a YAML alias bomb cannot blow up the message.
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 6, 4, 60, 60
_KEY = re.compile(r"\b[a-z_]+(?:\.[A-Za-z_0-9]+)*")


def load_yaml_as(cls: type, path: Path, partial: bool = False) -> Any:
    """`path` as a `cls` instance; ParamsError `path:line: message` at the first problem.
    `partial`: only the top-level keys that `cls` has are read (and checked); see `build`."""
    # YAML 1.2 (as DVC writes it): `3e-05` is a float, not a string as in YAML 1.1.
    yaml = YAML(typ="safe", pure=True)
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.load(text) or {}
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = error.problem or error.context or "invalid YAML"
        raise ParamsError(f"{path}{line}: {problem}") from None
    except (YAMLError, UnicodeDecodeError) as error:
        raise ParamsError(f"{path}: {str(error).splitlines()[0]}") from None
    try:
        return build(cls, raw, partial=partial)
    except ParamsError as error:
        raise locate(error, path, text) from None


def locate(error: ParamsError, path: Path, text: str | None = None) -> ParamsError:
    """`error` as `path:line: error`, the line of the first key the message names; for checks
    that need the data, made after the file was read."""
    if str(error).startswith(str(path)):
        return error
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
        lines = _key_lines(YAML(typ="safe", pure=True).compose(text))
    except (OSError, YAMLError, UnicodeDecodeError):
        lines = {}
    named = [line for key in _KEY.findall(str(error)) if (line := _line_of(key, lines))]
    where = f"{path}:{named[0]}" if named else str(path)
    return ParamsError(f"{where}: {error}")


def key_places(path: Path, keys: list[str]) -> dict[str, str]:
    """`path:line` of each dotted key of the YAML file at `path` that it has (or of its
    nearest enclosing key), for messages about values read from it."""
    try:
        lines = _key_lines(YAML(typ="safe", pure=True).compose(path.read_text(encoding="utf-8")))
    except (OSError, YAMLError, UnicodeDecodeError):
        return {}
    return {key: f"{path}:{line}" for key in keys if (line := _line_of(key, lines))}


def _key_lines(node: Any, prefix: str = "") -> dict[str, int]:
    """1-based line of each mapping key in the composed YAML, by its dotted path
    (`section`, `section.key`, `search.space.train.learning_rate.low`, ...)."""
    lines: dict[str, int] = {}
    if not isinstance(node, MappingNode):
        return lines
    for key, body in node.value:
        path = f"{prefix}{key.value}"
        lines.setdefault(path, key.start_mark.line + 1)
        for inner, line in _key_lines(body, f"{path}.").items():
            lines.setdefault(inner, line)
    return lines


def _line_of(key: str, lines: dict[str, int]) -> int | None:
    """The line of `key`, or of the nearest enclosing key the file has."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in lines:
            return lines[".".join(parts[:end])]
    return None


def build(cls: type, raw: Any, prefix: str = "", partial: bool = False) -> Any:
    """A `cls` from plain data: types checked against the hints, `check()` run if defined.

    `partial` (or a `PARTIAL = True` class attribute: a view of some keys of a mapping whose
    other keys another type checks): keys that `cls` lacks are skipped, not refused, and a
    missing mapping field is built from no keys (its defaults, or "missing key" for the first
    required one)."""
    partial = partial or getattr(cls, "PARTIAL", False)
    where = prefix.rstrip(".") or "params.yaml"
    if not isinstance(raw, dict):
        raise ParamsError(f"{where} must be a mapping, got {type(raw).__name__}")
    if not all(isinstance(key, str) for key in raw):
        raise ParamsError(f"{where} keys must be names, got {short(list(raw))}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown and not partial:
        raise ParamsError(
            f"unknown key {prefix}{unknown[0]} (expected one of: {', '.join(fields)})"
        )
    values = {}
    for name, spec in fields.items():
        key = f"{prefix}{name}"
        if name not in raw:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                if partial and dataclasses.is_dataclass(hints[name]):
                    values[name] = build(hints[name], {}, prefix=f"{key}.")
                    continue
                raise ParamsError(f"missing key {key}")
            continue
        values[name] = _convert(hints[name], raw[name], key)
    instance = cls(**values)
    if hasattr(instance, "check"):
        instance.check()
    return instance


def _convert(hint: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return build(hint, value, prefix=f"{key}.")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        (hint,) = [option for option in options if option is not type(None)]
        origin = typing.get_origin(hint)
    if origin is dict:
        _, item = typing.get_args(hint)
        if not isinstance(value, dict) or not all(isinstance(name, str) for name in value):
            raise ParamsError(f"{key} must be a mapping of names, got {short(value)}")
        return {name: _convert(item, element, f"{key}.{name}") for name, element in value.items()}
    if hint is Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamsError(f"{key} must be a finite number, got {value}")
        return value
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ParamsError(f"{key} must be a list of {item.__name__}, got {short(value)}")
        return [_convert(item, element, f"{key}[{i}]") for i, element in enumerate(value)]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, hint) or (isinstance(value, bool) and hint is not bool):
        raise ParamsError(f"{key} must be {hint.__name__}, got {short(value)}")
    if hint is float and not math.isfinite(value):
        raise ParamsError(f"{key} must be a finite number, got {value}")
    return value


def short(value: Any) -> str:
    """`repr(value)`, cut to a readable length."""
    return _SHORT.repr(value)
