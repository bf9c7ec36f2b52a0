"""Category taxonomy: which categories a battle's `category`/`category_tag` put it in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.battles.table import is_missing

_VERSION_SUFFIX = re.compile(r"_v\d+(\.\d+)*$")


def category_names(tag: Any) -> set[str]:
    """The category names a battle's `category_tag` puts it in.

    * a list of strings: each string;
    * a dict: every key whose value is `True`, by its bare key and by its path of keys
      joined with "/" (`{"criteria_v0.1": {"math": True}}` gives `math` and
      `criteria_v0.1/math`); nested dicts are walked;
    * a versioned group such as `math_v0.1` or `creative_writing_v0.1` also counts as a
      name when its flag of the same bare name (`math`, `creative_writing`) is `True`.

    Non-boolean values (scores such as `"score": 4`) never make a battle part of a category.
    """
    if is_missing(tag):
        return set()
    if isinstance(tag, str):
        return {tag}
    if isinstance(tag, Mapping):
        names: set[str] = set()
        _walk(tag, "", names)
        return names
    return {str(item) for item in tag if isinstance(item, str)}


def _walk(tag: Mapping[str, Any], prefix: str, names: set[str]) -> None:
    for key, value in tag.items():
        path = f"{prefix}{key}"
        if value is True or (isinstance(value, np.bool_) and bool(value)):
            names.update((key, path))
        elif isinstance(value, Mapping):
            _walk(value, f"{path}/", names)
            bare = _VERSION_SUFFIX.sub("", key)
            if bare != key and value.get(bare) is True:
                names.add(key)


def in_category(frame: pd.DataFrame, category: str) -> np.ndarray:
    """Which battles are in `category`, by their `category` column or `category_tag`."""
    if "category" not in frame.columns and "category_tag" not in frame.columns:
        raise BattleDataError(
            f"cannot select category {category!r}: the battles have no category or "
            f"category_tag column"
        )
    matched = np.zeros(len(frame), dtype=bool)
    if "category" in frame.columns:
        matched |= frame["category"].eq(category).to_numpy(dtype=bool)
    if "category_tag" in frame.columns:
        matched |= (
            frame["category_tag"]
            .map(lambda tag: category in category_names(tag))
            .to_numpy(dtype=bool)
        )
    return matched


def categories_present(frame: pd.DataFrame) -> set[str]:
    """Every category name some battle of `frame` is in (for "did you mean" errors)."""
    names: set[str] = set()
    if "category" in frame.columns:
        names.update(str(name) for name in frame["category"] if not is_missing(name))
    if "category_tag" in frame.columns:
        for tag in frame["category_tag"]:
            names |= category_names(tag)
    return names
