"""The models taking part in this arena, each bound to its exact stored version.

At start every contestant is registered with storage: unchanged settings find their existing
version, changed settings (a different fingerprint) create the next version, so votes always
stay attached to the settings they were cast on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from glassarena.arena.errors import UnknownModel
from glassarena.providers.base import Provider
from glassarena.storage.repository import ArenaRepository

BATTLE_KINDS = ("text", "webdev", "recorded")


@dataclass(frozen=True, slots=True)
class Entrant:
    """A contestant as configured: what storage needs to version it, and its provider."""

    name: str
    provider_kind: str
    settings: Mapping[str, Any]
    settings_fingerprint: str
    provider: Provider
    kinds: frozenset[str] = field(default_factory=lambda: frozenset({"text", "webdev"}))
    organization: str = "unknown"
    family: str | None = None
    open_weights: bool | None = None


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    name: str
    version: int
    version_id: int
    provider_kind: str
    provider: Provider
    kinds: frozenset[str]
    organization: str = "unknown"
    family: str | None = None
    open_weights: bool | None = None
    retired: bool = False  # by a retirement rule: kept for its battles, no longer offered


class Roster:
    def __init__(self, models: Iterable[RegisteredModel]) -> None:
        self._models = {model.name: model for model in models}

    @classmethod
    def register(cls, repository: ArenaRepository, entrants: Iterable[Entrant]) -> Roster:
        registered = []
        for entrant in entrants:
            unknown_kinds = set(entrant.kinds) - set(BATTLE_KINDS)
            if unknown_kinds:
                raise ValueError(
                    f"contestant {entrant.name!r}: unknown battle kinds {sorted(unknown_kinds)}; "
                    f"expected some of {list(BATTLE_KINDS)}"
                )
            version = repository.ensure_version(
                entrant.name,
                entrant.provider_kind,
                entrant.settings,
                entrant.settings_fingerprint,
            )
            registered.append(
                RegisteredModel(
                    name=entrant.name,
                    version=version.version,
                    version_id=version.id,
                    provider_kind=entrant.provider_kind,
                    provider=entrant.provider,
                    kinds=frozenset(entrant.kinds),
                    organization=entrant.organization,
                    family=entrant.family,
                    open_weights=entrant.open_weights,
                )
            )
        return cls(registered)

    def retiring(self, version_ids: Iterable[int]) -> Roster:
        """This roster with the models of these versions retired (no longer offered)."""
        retired = set(version_ids)
        return Roster(
            replace(model, retired=model.version_id in retired) for model in self._models.values()
        )

    def get(self, name: str) -> RegisteredModel:
        try:
            return self._models[name]
        except KeyError:
            raise UnknownModel(name) from None

    def names(self, kind: str) -> Sequence[str]:
        """The models offered in `kind` battles (retired ones are not)."""
        return sorted(
            name
            for name, model in self._models.items()
            if kind in model.kinds and not model.retired
        )

    def __iter__(self) -> Iterator[RegisteredModel]:
        return iter(self._models.values())
