"""Fitted attributes read before `fit` say so, instead of a bare AttributeError."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from glassarena.ratings.errors import NotFittedError


class FittedAttributes:
    """Attributes ending in `_` (scikit-learn's mark of a fitted attribute) exist after `fit`.

    Reading one before raises NotFittedError naming the estimator and the attribute.
    """

    # Only at run time: to the type checker a misspelt attribute must stay an error.
    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> NoReturn:
            # Called only when normal lookup failed, so fitted estimators pay nothing.
            if name.endswith("_") and not name.startswith("__"):
                raise NotFittedError(type(self).__name__, name)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _require_fitted(self, method: str) -> None:
        if "models_" not in vars(self):
            raise NotFittedError(type(self).__name__, f"{method}()")
