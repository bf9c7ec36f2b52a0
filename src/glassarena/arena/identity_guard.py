"""Identity-leak guard: a battle whose answers reveal who wrote them does not count.

Pure: text in, verdict out. A battle is *revealing* when

1. a prompt asks the model who it is ("who are you?", "which model are you?", "who trained
   you?") — whatever the answers say, the question is an attempt to unblind;
2. an answer identifies itself ("I am Claude", "as a language model developed by OpenAI",
   "I was trained by Google") naming any known model, organization or family — a false
   identity misleads the voter as much as a true one unblinds them;
3. an answer names its *own* model, organization or family (from the config and the alias
   families below) although no prompt of the battle named any of them.

The hard case, a prompt or answer that mentions models as a topic ("compare GPT-4 and
Claude"), is decided thus: mentions of other models never count against a battle, and an
answer may name its own model, organization or family when a prompt of the battle named
any of them first (the voter learns nothing the prompt did not already say: both sides were
asked about it). Self-identification (rule 2) reveals even then. Only rules 1-3 above
make a battle revealing.

Matching is whole-word; alias terms that are also ordinary words ("Llama", "Gemini",
"Claude", "Mistral", "Bard") match only with their capital letter.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

REVEALED_MESSAGE = "this battle revealed a model's identity, so it does not count"
# Part of every stored verdict's `judged_by`: raise it whenever the rules below change, so that
# verdicts stored under the old rules are judged again from the battle's texts.
RULES_REVISION = 1
_MOST_PAIRINGS_KEPT = 10_000

# family -> the names it goes by (models, products, organizations)
DEFAULT_FAMILIES: Mapping[str, tuple[str, ...]] = {
    "openai": (
        "OpenAI",
        "ChatGPT",
        "GPT",
        "GPT-3",
        "GPT-3.5",
        "GPT-4",
        "GPT-4o",
        "GPT 4",
        "GPT 3.5",
    ),
    "anthropic": ("Anthropic", "Claude"),
    "google": ("Google", "DeepMind", "Gemini", "Gemma", "Bard", "PaLM"),
    "xai": ("xAI", "Grok"),
    "meta": ("Meta AI", "Meta", "Llama", "LLaMA"),
    "mistral": ("Mistral AI", "Mistral", "Mixtral"),
    "alibaba": ("Alibaba", "Qwen", "Tongyi"),
    "deepseek": ("DeepSeek",),
    "cohere": ("Cohere", "Command R"),
    "microsoft": ("Microsoft", "Phi-3", "Phi-4"),
}
# Terms that are also ordinary words: matched only as written (capitalised).
CASE_SENSITIVE = frozenset(
    {"LLaMA", "Llama", "Gemini", "Claude", "Mistral", "Bard", "Meta", "Command R", "Grok"}
)

_ASKS_IDENTITY = re.compile(
    r"\bwho\s+(are|r)\s+(you|u)\b"
    r"|\bwhat\s+are\s+you\s*\?"
    r"|\b(which|what)\s+(ai|model|llm|language\s+model|chatbot|assistant|version)"
    r"\s+(are|is)\s+(you|this)\b"
    r"|\bwhat(?:'s| is)\s+your\s+(name|model|identity)\b"
    r"|\bwho\s+(made|created|trained|built|developed|programmed)\s+(you|this model)\b"
    r"|\b(which|what)\s+company\s+(made|created|trained|built|developed|owns)\s+you\b"
    r"|\bare\s+you\s+(chatgpt|gpt|claude|gemini|llama|grok|bard|mistral|qwen|a\s+gpt)\b"
    r"|\b(introduce|identify)\s+yourself\b",
    re.IGNORECASE,
)
# First person only: "GPT-4, a model developed by OpenAI" in a comparison is a topic.
_SELF_INTRODUCTION = (
    r"\b(?:i\s+am|i'm|my\s+name\s+is"
    r"|i\s+was\s+(?:made|created|trained|built|developed)\s+by"
    r"|(?:as|i\s+am|i'm)\s+an?\s+[\w\s,-]{0,40}?(?:developed|created|trained|built|made)\s+by"
    r")\s+(?:an?\s+|the\s+)?"
)


@dataclass(frozen=True, slots=True)
class SideIdentity:
    """What identifies one side: its model name, organization and extra terms."""

    name: str
    organization: str | None = None
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Leak:
    side: str | None  # "a", "b", or None for the prompt
    rule: str  # "asks-identity" | "self-identifies" | "names-itself"
    term: str

    def describe(self) -> str:
        where = "the prompt" if self.side is None else f"answer {self.side.upper()}"
        what = {
            "asks-identity": "asks the model who it is",
            "self-identifies": f"identifies itself as {self.term!r}",
            "names-itself": f"names its own model or family ({self.term!r}) unprompted",
        }[self.rule]
        return f"{where} {what}"


@dataclass(frozen=True, slots=True)
class IdentityVerdict:
    """The guard's verdict on a whole battle, judged when its latest turn finished and stored
    with it, so that a vote needs no texts.

    `judged_by` names everything the verdict depends on besides the texts: the rules' revision,
    the guard's configuration and who each side is. A verdict whose `judged_by` differs from
    what the guard would write now is stale and must be judged again from the texts.
    """

    judged_by: str
    leak: Leak | None

    def stored(self) -> dict[str, Any]:
        """The verdict as a JSON object (the battle's `identity_verdict` column)."""
        leak = self.leak
        return {
            "judged_by": self.judged_by,
            "leak": None
            if leak is None
            else {"side": leak.side, "rule": leak.rule, "term": leak.term},
        }

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> IdentityVerdict | None:
        """The verdict a battle's `identity_verdict` holds; None for a battle never judged."""
        if stored is None:
            return None
        leak = stored["leak"]
        return cls(
            str(stored["judged_by"]),
            None if leak is None else Leak(leak["side"], leak["rule"], leak["term"]),
        )


@dataclass(frozen=True)
class IdentityGuard:
    families: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_FAMILIES))
    enabled: bool = True

    @cached_property
    def _all_terms(self) -> tuple[str, ...]:
        return tuple(
            sorted(
                {term for terms in self.families.values() for term in terms}, key=len, reverse=True
            )
        )

    @cached_property
    def _self_identification(self) -> re.Pattern[str]:
        names = "|".join(_term_pattern(term) for term in self._all_terms)
        return re.compile(_SELF_INTRODUCTION + r"(" + names + r")", re.IGNORECASE)

    @cached_property
    def _configuration(self) -> bytes:
        """What the guard's verdicts depend on besides the battle (see `judged_by`)."""
        described = {
            "rules": RULES_REVISION,
            "enabled": self.enabled,
            "families": {name: list(terms) for name, terms in self.families.items()},
        }
        return json.dumps(described, sort_keys=True).encode()

    @cached_property
    def _judged_by(self) -> dict[tuple[tuple[str, SideIdentity], ...], str]:
        return {}

    def judged_by(self, contestants: Mapping[str, SideIdentity]) -> str:
        """The key of a verdict this guard gives on a battle between `contestants`."""
        pairing = tuple(sorted(contestants.items()))
        # Every vote asks; an arena has few pairings, so each key is computed once.
        key = self._judged_by.get(pairing)
        if key is None:
            sides = [[side, who.name, who.organization, list(who.terms)] for side, who in pairing]
            digest = hashlib.sha256(self._configuration)
            digest.update(json.dumps(sides).encode())
            key = digest.hexdigest()[:32]
            if len(self._judged_by) < _MOST_PAIRINGS_KEPT:
                self._judged_by[pairing] = key
        return key

    def verdict(
        self,
        prompts: Sequence[str],
        answers: Mapping[str, Sequence[str]],
        contestants: Mapping[str, SideIdentity],
    ) -> IdentityVerdict:
        """`check`'s answer on a battle, in the form it is stored."""
        return IdentityVerdict(
            self.judged_by(contestants), self.check(prompts, answers, contestants)
        )

    def own_terms(self, contestant: SideIdentity) -> tuple[str, ...]:
        """The model's own identifying terms: its distinctive name, its organization, its
        configured terms, and the aliases of every family its name or organization names."""
        terms = {*contestant.terms}
        if _distinctive(contestant.name):
            terms.add(contestant.name)
        if contestant.organization:
            terms.add(contestant.organization)
        described = f"{contestant.name} {contestant.organization or ''}"
        for aliases in self.families.values():
            if any(_finds(alias, described) for alias in aliases):
                terms.update(aliases)
        return tuple(sorted(terms, key=len, reverse=True))

    def check(
        self,
        prompts: Sequence[str],
        answers: Mapping[str, Sequence[str]],
        contestants: Mapping[str, SideIdentity],
    ) -> Leak | None:
        """The first leak in a battle (prompts of every turn, answers per side), or None."""
        if not self.enabled:
            return None
        for prompt in prompts:
            question = _ASKS_IDENTITY.search(prompt)
            if question:
                return Leak(None, "asks-identity", question.group(0))
        prompt_text = "\n".join(prompts)
        for side, texts in answers.items():
            text = "\n".join(texts)
            introduced = self._self_identification.search(text)
            if introduced:
                return Leak(side, "self-identifies", introduced.group(1))
            contestant = contestants.get(side)
            if contestant is None:
                continue
            own = self.own_terms(contestant)
            if any(_finds(term, prompt_text) for term in own):
                continue  # the prompt made the model's own family the topic
            named = next((term for term in own if _finds(term, text)), None)
            if named is not None:
                return Leak(side, "names-itself", named)
        return None


def guard_from_config(enabled: bool, families: Mapping[str, Sequence[str]]) -> IdentityGuard:
    """The guard the `identity_guard:` section describes: built-in families, overridden or
    extended by the configured ones."""
    merged = {**DEFAULT_FAMILIES, **{name: tuple(terms) for name, terms in families.items()}}
    return IdentityGuard(families=merged, enabled=enabled)


def _distinctive(name: str) -> bool:
    """A model name specific enough to search for: not a single ordinary word."""
    return bool(re.search(r"[\d\s.\-_/]", name.strip()))


def _term_pattern(term: str) -> str:
    # whole word, with hyphens or spaces inside the name matching either
    body = r"[\s\-]?".join(re.escape(part) for part in re.split(r"[\s\-]+", term.strip()))
    return r"(?<![\w-])" + body + r"(?!\w)"


def _finds(term: str, text: str) -> bool:
    flags = 0 if term in CASE_SENSITIVE else re.IGNORECASE
    return re.search(_term_pattern(term), text, flags) is not None
