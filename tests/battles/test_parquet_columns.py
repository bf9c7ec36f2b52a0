"""Reading only the columns a ranking uses gives the same leaderboard as reading everything."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from glassarena.battles.errors import BattleDataError
from glassarena.battles.formats import build_mapping, huggingface, read_battles, write_battles
from glassarena.battles.style_features import style_features
from glassarena.battles.table import REQUIRED_COLUMNS, STYLE_COLUMNS
from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard


@pytest.fixture(scope="module")
def parquet(llmfao_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    battles = read_battles(
        llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping("llmfao"), with_answers=True
    )
    path = tmp_path_factory.mktemp("parquet") / "battles.parquet"
    write_battles(battles, path)  # conversations, and style counts nested in conv_metadata
    return path


def test_only_the_named_columns_are_read(parquet: Path) -> None:
    plain = read_battles(parquet, columns=REQUIRED_COLUMNS)
    assert list(plain.columns) == list(REQUIRED_COLUMNS)
    assert isinstance(plain["model_a"].dtype, pd.CategoricalDtype)  # dictionary-encoded
    styled = read_battles(parquet, columns=[*REQUIRED_COLUMNS, *STYLE_COLUMNS, "conversation_a"])
    # The style counts are in the metadata, so the conversations are not needed.
    assert "conversation_a" not in styled.columns
    full = read_battles(parquet)
    # A count struct arrives as its total: the same features as from the full dicts.
    for ours, theirs in zip(style_features(styled), style_features(full), strict=True):
        assert ours == theirs if isinstance(ours, tuple) else (ours == theirs).all()


@pytest.mark.parametrize("style_control", [False, True])
def test_the_same_leaderboard_either_way(parquet: Path, style_control: bool) -> None:
    used = [*REQUIRED_COLUMNS, *STYLE_COLUMNS] if style_control else list(REQUIRED_COLUMNS)
    options = LeaderboardOptions(style_control=style_control)
    pruned = compute_leaderboard(read_battles(parquet, columns=used), options)
    full = compute_leaderboard(read_battles(parquet), options)
    assert pruned.rows == full.rows and pruned.style == full.style


def test_a_missing_count_struct_is_named(parquet: Path, tmp_path: Path) -> None:
    battles = read_battles(parquet)
    battles.loc[3, "header_count_b"] = None
    path = tmp_path / "holes.parquet"
    write_battles(battles, path)
    styled = read_battles(path, columns=[*REQUIRED_COLUMNS, *STYLE_COLUMNS])
    with pytest.raises(
        Exception, match=r"header_count_b is missing in 1 battle\(s\), first at row 4"
    ):
        style_features(styled)


def test_metadata_read_in_small_batches_gives_the_same_table(
    parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = [*REQUIRED_COLUMNS, *STYLE_COLUMNS]
    whole = read_battles(parquet, columns=used)
    monkeypatch.setattr(huggingface, "_BATCH_ROWS", 7)
    batched = read_battles(parquet, columns=used)
    assert len(whole) > 7 * 10
    pd.testing.assert_frame_equal(
        batched.astype({"model_a": object, "model_b": object}),
        whole.astype({"model_a": object, "model_b": object}),
    )


def test_a_file_without_battles_is_refused_after_a_column_read(
    parquet: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.parquet"
    pq.write_table(pq.read_table(parquet).slice(0, 0), empty)
    with pytest.raises(BattleDataError, match="no battles"):
        read_battles(empty, columns=[*REQUIRED_COLUMNS, *STYLE_COLUMNS])
