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
from glassarena.vocabulary import BattleKind


@dataclass(frozen=True, slots=True)
class ContestantToRegister:
    """A contestant before registration: what storage needs to version it, and its provider."""

    name: str
    provider_kind: str
    settings: Mapping[str, Any]
    settings_fingerprint: str
    provider: Provider
    kinds: frozenset[BattleKind] = field(default_factory=lambda: frozenset(BattleKind.live_kinds()))
    organization: str = "unknown"
    family: str | None = None
    open_weights: bool | None = None


@dataclass(frozen=True, slots=True)
class Contestant:
    """A model taking part in this arena, bound to its stored version."""

    name: str
    version: int
    version_id: int
    provider_kind: str
    provider: Provider
    kinds: frozenset[BattleKind]
    organization: str = "unknown"
    family: str | None = None
    open_weights: bool | None = None
    retired: bool = False  # by a retirement rule: kept for its battles, no longer offered


class Roster:
    def __init__(self, models: Iterable[Contestant]) -> None:
        self._models = {model.name: model for model in models}

    @classmethod
    def register(
        cls, repository: ArenaRepository, contestants: Iterable[ContestantToRegister]
    ) -> Roster:
        registered = []
        for contestant in contestants:
            unknown_kinds = set(contestant.kinds) - set(BattleKind)
            if unknown_kinds:
                raise ValueError(
                    f"contestant {contestant.name!r}: unknown battle kinds "
                    f"{sorted(unknown_kinds)}; expected some of {[str(k) for k in BattleKind]}"
                )
            version = repository.ensure_version(
                contestant.name,
                contestant.provider_kind,
                contestant.settings,
                contestant.settings_fingerprint,
            )
            registered.append(
                Contestant(
                    name=contestant.name,
                    version=version.version,
                    version_id=version.version_id,
                    provider_kind=contestant.provider_kind,
                    provider=contestant.provider,
                    kinds=frozenset(BattleKind(kind) for kind in contestant.kinds),
                    organization=contestant.organization,
                    family=contestant.family,
                    open_weights=contestant.open_weights,
                )
            )
        return cls(registered)

    def retiring(self, version_ids: Iterable[int]) -> Roster:
        """This roster with the models of these versions retired (no longer offered)."""
        retired = set(version_ids)
        return Roster(
            replace(model, retired=model.version_id in retired) for model in self._models.values()
        )

    def get(self, name: str) -> Contestant:
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

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __iter__(self) -> Iterator[Contestant]:
        return iter(self._models.values())
