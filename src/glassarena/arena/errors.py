"""Errors the arena reports to its users.

Each carries the HTTP status the web layer answers with and a message written for the person
in front of the page. Messages never name a model, provider or version: an error raised before
the vote must not break the blinding.
"""

from __future__ import annotations


class ArenaError(Exception):
    status: int = 400
    message: str = "The request could not be handled."

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class InvalidRequest(ArenaError):
    status = 400
    message = "The request is not valid."


class PromptEmpty(InvalidRequest):
    message = "Please write a prompt before starting a battle."


class PromptTooLong(InvalidRequest):
    status = 413

    def __init__(self, length: int, limit: int) -> None:
        self.length = length
        self.limit = limit
        super().__init__(
            f"The prompt has {length:,} characters; the limit is {limit:,}. "
            "Please shorten it and try again."
        )


class UnknownModel(InvalidRequest):
    status = 404

    def __init__(self, name: str) -> None:
        # Only raised for names the user typed in named/single mode, so echoing it is safe.
        self.name = name
        super().__init__(f"There is no model called {name!r} in this arena.")


class NotFound(ArenaError):
    status = 404
    message = "This battle does not exist, or it belongs to someone else."


class AlreadyVoted(ArenaError):
    status = 409
    message = "This battle already has a vote; each battle takes exactly one."


class VotingNotOpen(ArenaError):
    status = 409
    message = "Please wait until both answers have finished before voting."


class BattleBusy(ArenaError):
    status = 409
    message = "The answers to the last prompt are still being written; please wait for them."


class BattleClosed(ArenaError):
    status = 409
    message = "This battle has ended; start a new battle to ask something else."


class BattleFailed(ArenaError):
    status = 409
    message = (
        "One of the models could not answer, so this battle cannot be voted on. "
        "Please start a new battle."
    )


class NoContestants(ArenaError):
    status = 503
    message = "This arena does not have enough models configured for this kind of battle."


class ServiceUnavailable(ArenaError):
    """Storage or Redis did not answer; nothing was acknowledged, so nothing is lost."""

    status = 503
    message = "The arena cannot save anything right now; please try again in a moment."


class RateLimited(ArenaError):
    status = 429

    def __init__(self, retry_after: int, what: str = "requests") -> None:
        self.retry_after = retry_after
        super().__init__(f"Too many {what} for now; please try again in {_duration(retry_after)}.")


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


class ReasonsRefused(ArenaError):
    """Reasons that cannot be taken for this battle (charged like a refused vote)."""

    status = 409


class ReasonsBeforeVote(ReasonsRefused):
    message = "Reasons can only be given after voting on this battle."


class ReasonsAlreadyGiven(ReasonsRefused):
    message = "This vote already has its reasons; they can be given once."


class ReasonsWithoutAPick(ReasonsRefused):
    message = "Reasons say why one answer was better; this vote did not pick one."


class ReasonsEmpty(InvalidRequest):
    message = "Pick at least one reason or write a note."


class ShareBeforeVote(ArenaError):
    """A share link asked for before the vote (charged like a refused vote)."""

    status = 409
    message = "A battle can be shared once it has been voted on."
