"""The project's datasets: every write is atomic, so a kill or a failure mid-write never leaves a
half-written file as the newest version (Kedro loads the newest version of every input)."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from kedro.io import DatasetError, Version
from kedro_datasets.pandas import ParquetDataset

from pinsage.catalog_datasets import AtomicJSONDataset, AtomicParquetDataset

GOOD = pd.DataFrame({"user": [0, 1], "item": [2, 3]})
# pyarrow creates the file, then fails converting this column: what a kill mid-write leaves behind.
BAD = pd.DataFrame({"user": [0, 1], "item": [object(), 3]})


def save_then_fail(dataset_type, path):
    dataset_type(filepath=str(path), version=Version(None, None)).save(GOOD)
    time.sleep(0.01)  # the next save gets a later version
    with pytest.raises(DatasetError):
        dataset_type(filepath=str(path), version=Version(None, None)).save(BAD)
    return dataset_type(filepath=str(path), version=Version(None, None))


def test_kedros_own_parquet_dataset_leaves_a_broken_newest_version(tmp_path):
    """The defect, on Kedro's dataset: the next run would fail to read its input."""
    with pytest.raises(DatasetError):
        save_then_fail(ParquetDataset, tmp_path / "x.parquet").load()


def test_a_failed_write_never_becomes_the_newest_version(tmp_path):
    dataset = save_then_fail(AtomicParquetDataset, tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(dataset.load(), GOOD)
    assert not list(tmp_path.rglob("*.part"))  # the temporary file was removed


def test_json_writes_are_atomic_too(tmp_path):
    path = tmp_path / "m.json"
    AtomicJSONDataset(filepath=str(path), version=Version(None, None)).save({"a": 1})
    time.sleep(0.01)
    with pytest.raises(DatasetError):
        AtomicJSONDataset(filepath=str(path), version=Version(None, None)).save({"a": object()})
    assert AtomicJSONDataset(filepath=str(path), version=Version(None, None)).load() == {"a": 1}
