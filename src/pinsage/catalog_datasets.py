"""Kedro datasets for the project's own artifact types (tensor dicts, DGL graphs, faiss indexes, folders of
daily batches), and atomic versions of the kedro-datasets types the catalog uses.

This is Kedro glue, not library core. Every save goes to a temporary file in the target folder and is
renamed into place, so a killed run never leaves a half-written artifact where a reader would find it:
Kedro loads the newest version of each input, and a half-written newest version would break every run
after it. Tensors are loaded with `weights_only=True`: a model file can hold tensors, never code.
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import AbstractDataset, AbstractVersionedDataset, DatasetError, Version, get_filepath_str
from kedro_datasets.json import JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.pandas import ParquetDataset
from kedro_datasets.partitions import PartitionedDataset
from kedro_datasets.text import TextDataset

from pinsage.atomic import write_atomically, write_folder_atomically
from pinsage.lifecycle.publishing import PublishedRun, read_pointer, without_history
from pinsage.serving.embeddings import StagedParts, part_name, read_embedding_table, write_part


class _LocalFileDataset(AbstractVersionedDataset):
    """A versioned local file written atomically by a `write(obj, path)` callable."""

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict | None = None):
        super().__init__(filepath=PurePosixPath(filepath), version=version, exists_function=os.path.exists)
        self.metadata = metadata

    def _write(self, data: Any, path: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _read(self, path: str) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def load(self) -> Any:
        path = get_filepath_str(self._get_load_path(), "file")
        if not os.path.exists(path):
            raise DatasetError(f"{path} does not exist; run the pipeline that produces it first")
        return self._read(path)

    def save(self, data: Any) -> None:
        path = get_filepath_str(self._get_save_path(), "file")
        write_atomically(path, lambda tmp: self._write(data, tmp))

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), "file")
        except DatasetError:
            return False
        return os.path.exists(path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}


class _AtomicSave:
    """For a kedro-datasets type: write the version's file under a hidden temporary name in the version
    folder, then rename it into place. Kedro finds versions by the file's own name, so until the rename
    the version does not exist for any reader; a failed write removes its temporary file."""

    def _get_save_path(self) -> PurePosixPath:
        final = super()._get_save_path()
        self._final_save_path = final
        self._temporary_path = final.parent / f".{final.name}.part"
        return self._temporary_path

    def save(self, data: Any) -> None:
        # The parent's own save, without Kedro's wrapper: that wrapper looks for the new version right
        # after writing, before the rename; the wrapper Kedro puts around this method does it after.
        write = inspect.unwrap(super().save.__func__)
        try:
            write(self, data)
            os.replace(self._temporary_path, self._final_save_path)
        finally:
            if os.path.exists(self._temporary_path):
                os.remove(self._temporary_path)


class AtomicParquetDataset(_AtomicSave, ParquetDataset):
    """pandas.ParquetDataset, written atomically."""


class AtomicJSONDataset(_AtomicSave, JSONDataset):
    """json.JSONDataset, written atomically."""


class AtomicTextDataset(_AtomicSave, TextDataset):
    """text.TextDataset, written atomically."""


class AtomicMatplotlibDataset(_AtomicSave, MatplotlibDataset):
    """matplotlib.MatplotlibDataset, written atomically."""


class TensorDictDataset(_LocalFileDataset):
    """A dict of tensors (feature tables, a model's state dict), stored with torch.save."""

    def _write(self, data: dict, path: str) -> None:
        import torch

        torch.save(data, path)

    def _read(self, path: str) -> dict:
        import torch

        return torch.load(path, map_location="cpu", weights_only=True)


class DGLGraphDataset(_LocalFileDataset):
    """One DGL graph in DGL's binary format."""

    def _write(self, data: Any, path: str) -> None:
        import dgl

        dgl.save_graphs(path, [data])

    def _read(self, path: str) -> Any:
        import dgl

        graphs, _ = dgl.load_graphs(path)
        return graphs[0]


class FaissIndexDataset(_LocalFileDataset):
    """A faiss index, in faiss's own file format."""

    def _write(self, data: Any, path: str) -> None:
        import faiss

        faiss.write_index(data, path)

    def _read(self, path: str) -> Any:
        import faiss

        return faiss.read_index(path)


class PartitionedParquetDataset(_LocalFileDataset):
    """A table stored as a folder of Parquet parts of contiguous rows (`part-00000.parquet`, ...).

    Saves a pandas DataFrame, cut into parts of `rows_per_part` rows, or `StagedParts` that a dask
    cluster's workers already wrote (moved into the version folder: a rename where the staging folder
    is on the same file system, so the table never passes through this process). Loads the whole table
    as one DataFrame; a version written as one Parquet file, before parts, loads too. The version folder
    appears whole or not at all.
    """

    def __init__(
        self,
        filepath: str,
        rows_per_part: int = 1_000_000,
        version: Version | None = None,
        metadata: dict | None = None,
    ):
        super().__init__(filepath=filepath, version=version, metadata=metadata)
        if rows_per_part < 1:
            raise DatasetError(f"{filepath}: rows_per_part must be at least 1, got {rows_per_part}")
        self._rows_per_part = rows_per_part

    def save(self, data: Any) -> None:
        path = get_filepath_str(self._get_save_path(), "file")
        write_folder_atomically(path, lambda folder: self._write_parts(data, folder))
        if isinstance(data, StagedParts):
            shutil.rmtree(data.folder, ignore_errors=True)

    def _write_parts(self, data: Any, folder: Path) -> None:
        if isinstance(data, StagedParts):
            for name in data.files:
                shutil.move(data.folder / name, folder / name)
            return
        starts = range(0, max(len(data), 1), self._rows_per_part)  # an empty table is one empty part
        for index, start in enumerate(starts):
            write_part(data.iloc[start : start + self._rows_per_part], folder / part_name(index))

    def _read(self, path: str) -> Any:
        return read_embedding_table(path)

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "rows_per_part": self._rows_per_part}


class BatchFolderDataset(PartitionedDataset):
    """A folder of files dropped one per day or batch; an empty or missing folder is no batches.

    Kedro's PartitionedDataset fails on an empty folder, but "nothing new today" is a normal day for a
    scheduled run. Keys are the files' paths (folder included), so errors can name the file.
    """

    def load(self) -> dict[str, Any]:
        self._invalidate_caches()
        if not self._list_partitions():
            return {}
        folder = self._path.rstrip("/")
        return {f"{folder}/{name}{self._filename_suffix}": read for name, read in super().load().items()}


class PublishedRunDataset(AbstractDataset):
    """Read-only: the published model and what it was trained on, as lazily loaded artifacts.

    `datasets` maps names to the same configurations the catalog gives those datasets (YAML anchors keep
    them in one place); each is loaded at the version the pointer records for it. With nothing
    published, loading gives None, so warm start can say so and train from scratch.
    """

    def __init__(self, filepath: str, datasets: dict[str, dict], metadata: dict | None = None):
        # `filepath` (the pointer file) and not `pointer`: Kedro anchors only keys it knows to be paths.
        self._pointer = filepath
        self._datasets = datasets
        self.metadata = metadata

    def load(self) -> PublishedRun | None:
        published = read_pointer(self._pointer)
        if published is None:
            return None
        previous = tuple(self._run(record) for record in published.get("previous", []))
        return self._run(published, previous)

    def _run(self, record: dict, previous: tuple[PublishedRun, ...] = ()) -> PublishedRun:
        versions = record["artifacts"]
        # An artifact the pointer does not record (one added to the project since) fails when asked for,
        # with a message saying so, not here: a warm start that does not need it still works.
        loaders = {
            name: AbstractDataset.from_config(name, config, load_version=versions[name]).load
            for name, config in self._datasets.items()
            if name in versions
        }
        return PublishedRun(versions["model_weights"], loaders, without_history(record), previous)

    def save(self, data: Any) -> None:
        raise DatasetError("published_run is read-only; the promotion gate writes the pointer")

    def _describe(self) -> dict[str, Any]:
        return {"pointer": self._pointer, "datasets": sorted(self._datasets)}


__all__: list[str] = [
    "AtomicParquetDataset",
    "AtomicJSONDataset",
    "AtomicTextDataset",
    "AtomicMatplotlibDataset",
    "TensorDictDataset",
    "DGLGraphDataset",
    "FaissIndexDataset",
    "PartitionedParquetDataset",
    "BatchFolderDataset",
    "PublishedRunDataset",
]
