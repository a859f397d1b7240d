"""The project's datasets: every write is atomic, so a kill or a failure mid-write never leaves a
half-written file as the newest version (Kedro loads the newest version of every input)."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from kedro.io import DatasetError, Version
from kedro_datasets.pandas import ParquetDataset

from pinsage.catalog_datasets import AtomicJSONDataset, AtomicParquetDataset, PartitionedParquetDataset

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


def test_a_partitioned_table_is_saved_in_parts_and_loaded_whole(tmp_path):
    path = tmp_path / "t.parquet"
    table = pd.DataFrame({"item": range(5), "item_id": list("abcde")})
    PartitionedParquetDataset(str(path), rows_per_part=2, version=Version(None, None)).save(table)
    (version,) = path.iterdir()
    assert sorted(p.name for p in (version / "t.parquet").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    pd.testing.assert_frame_equal(PartitionedParquetDataset(str(path), version=Version(None, None)).load(), table)


def test_a_failed_partitioned_write_leaves_the_previous_version_newest(tmp_path):
    path = tmp_path / "t.parquet"
    PartitionedParquetDataset(str(path), rows_per_part=1, version=Version(None, None)).save(GOOD)
    time.sleep(0.01)
    with pytest.raises(DatasetError):
        # The first part is written, the second fails: the half-written folder must never appear.
        PartitionedParquetDataset(str(path), rows_per_part=1, version=Version(None, None)).save(BAD)
    pd.testing.assert_frame_equal(PartitionedParquetDataset(str(path), version=Version(None, None)).load(), GOOD)
    assert len(list(path.iterdir())) == 1
    assert not list(tmp_path.rglob("*.part"))


def test_a_table_written_as_one_file_before_parts_still_loads(tmp_path):
    """Published runs from before parts existed are served and rolled back to."""
    path = tmp_path / "t.parquet"
    AtomicParquetDataset(filepath=str(path), version=Version(None, None)).save(GOOD)
    pd.testing.assert_frame_equal(PartitionedParquetDataset(str(path), version=Version(None, None)).load(), GOOD)
