"""Every problem in an arena file, in YAML syntax or in meaning, with its file and line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    source: str
    line: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


class ConfigError(ValueError):
    """All the problems found, reported at once so that one edit can fix them all."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = "a problem" if count == 1 else f"{count} problems"
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"arena configuration has {heading}:\n{lines}")
