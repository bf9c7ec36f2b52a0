"""Composing the arena file with the line of every key and value, and locating problems on it.

The file is composed into YAML nodes, not just loaded, so that the marks of every key and
value are kept; pydantic's error locations (paths of keys) are mapped back onto them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from glassarena.arena.config.errors import ConfigError, ConfigProblem

KeyPath = tuple[str | int, ...]


class YamlMarks:
    """Line numbers of every key and value in a composed YAML document."""

    def __init__(self, source: str, root: yaml.Node) -> None:
        self.source = source
        self._value_lines: dict[KeyPath, int] = {}
        self._key_lines: dict[KeyPath, int] = {}
        self.duplicate_keys: list[ConfigProblem] = []
        self._walk(root, (), source)

    def _walk(self, node: yaml.Node, path: KeyPath, source: str) -> None:
        self._value_lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
                child = (*path, key)
                line = key_node.start_mark.line + 1
                if child in self._key_lines:
                    message = (
                        f"{dotted(child)} is given twice (first at line {self._key_lines[child]})"
                    )
                    self.duplicate_keys.append(ConfigProblem(source, line, message))
                self._key_lines[child] = line
                self._walk(value_node, child, source)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index), source)

    def line(self, path: KeyPath, *, at_key: bool = False) -> int:
        """The line of the deepest part of `path` present in the file."""
        for length in range(len(path), -1, -1):
            prefix = path[:length]
            if at_key and prefix in self._key_lines:
                return self._key_lines[prefix]
            if prefix in self._value_lines:
                return self._value_lines[prefix]
        return 1

    def known(self, path: KeyPath) -> bool:
        return path in self._value_lines

    def problem(self, path: KeyPath, message: str, *, at_key: bool = False) -> ConfigProblem:
        return ConfigProblem(self.source, self.line(path, at_key=at_key), message)

    def located(self, pydantic_loc: Sequence[str | int]) -> KeyPath:
        """pydantic's error location reduced to the keys present in the file.

        Locations carry steps of pydantic's own, like the tag of a discriminated union;
        those are skipped.
        """
        path: KeyPath = ()
        for step in pydantic_loc:
            if self.known((*path, step)):
                path = (*path, step)
        return path


def compose_settings(text: str, source: str) -> tuple[dict[str, Any], YamlMarks]:
    """The file's settings and their marks; ConfigError for anything that is not a mapping."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(part for part in (error.context, error.problem) if part)
        raise ConfigError([ConfigProblem(source, line, f"YAML syntax error: {reason}")]) from None
    if root is None:
        raise ConfigError([ConfigProblem(source, 1, "the file is empty; expected settings")])
    marks = YamlMarks(source, root)
    if not isinstance(data, dict):
        raise ConfigError([marks.problem((), "expected a mapping of settings at the top")])
    if marks.duplicate_keys:
        raise ConfigError(marks.duplicate_keys)
    return data, marks


def dotted(path: KeyPath) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "the file"


def location_label(data: Any, path: KeyPath) -> str:
    """A location for messages, naming contestants rather than numbering them."""
    if path[:1] == ("contestants",) and len(path) >= 2 and isinstance(data, dict):
        entries = data.get("contestants")
        index = path[1]
        if isinstance(entries, list) and isinstance(index, int) and index < len(entries):
            entry = entries[index]
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                rest = dotted(path[2:])
                name = f"contestant {entry['name']!r}"
                return f"{name}.{rest}" if path[2:] else name
    return dotted(path)


def validation_problems(error: ValidationError, marks: YamlMarks, data: Any) -> list[ConfigProblem]:
    """pydantic's errors as problems on the lines of the file, in file order."""
    problems = []
    for detail in error.errors():
        path = marks.located(detail["loc"])
        message = detail["msg"]
        if detail["type"] == "missing":
            message = f"missing required setting {detail['loc'][-1]!r}"
        elif detail["type"] == "extra_forbidden":
            message = f"unknown setting {path[-1]!r}"
        elif detail["type"] == "union_tag_invalid" and marks.known((*path, "kind")):
            kind = detail.get("ctx", {}).get("tag")
            known = "openai, anthropic, local, recorded"
            message = f"unknown provider kind {kind!r}; expected one of {known}"
            path = (*path, "kind")
        at_key = detail["type"] == "extra_forbidden"
        problems.append(
            marks.problem(path, f"{location_label(data, path)}: {message}", at_key=at_key)
        )
    return sorted(problems, key=lambda problem: problem.line)
