"""Reading a dataset's delimited files from a folder or a zip archive, with errors that say where."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from pinsage.data.schema import DataError, raise_at_first_bad_row

# A byte that never occurs in MovieLens text: multi-character separators such as "::" are rewritten
# to it so the fast C parser can be used (the python engine is ~20x slower on ML-10M).
_UNIT_SEPARATOR = "\x1f"


class SourceFiles:
    """A folder or zip archive of a dataset, whose files are addressed by base name.

    Official GroupLens zips keep their files under a top folder whose name differs from the
    dataset's (ml-10m.zip holds ml-10M100K/), so files are found by base name wherever they sit.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise DataError(f"data path {str(self.path)!r} does not exist")
        self._members: dict[str, str] = {}
        if self.path.is_dir():
            for file in self.path.rglob("*"):
                if file.is_file():
                    self._members.setdefault(file.name, str(file.relative_to(self.path)))
        elif zipfile.is_zipfile(self.path):
            with zipfile.ZipFile(self.path) as archive:
                for name in archive.namelist():
                    if not name.endswith("/") and "__MACOSX" not in name:
                        self._members.setdefault(PurePosixPath(name).name, name)
        else:
            raise DataError(f"data path {str(self.path)!r} is neither a folder nor a zip archive")

    def has(self, name: str) -> bool:
        return name in self._members

    def label(self, name: str) -> str:
        """Where a file lives, for error messages."""
        member = self._members.get(name, name)
        return str(self.path / member) if self.path.is_dir() else f"{self.path}:{member}"

    def read_bytes(self, name: str) -> bytes:
        if name not in self._members:
            raise DataError(f"{self.label(name)}: required file {name!r} is missing in {str(self.path)!r}")
        member = self._members[name]
        if self.path.is_dir():
            return (self.path / member).read_bytes()
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(member)


def decode(data: bytes, encoding: str | None, label: str) -> str:
    """Text of a file: `encoding` if given, else UTF-8 falling back to latin-1 (older GroupLens files)."""
    if encoding is not None:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as err:
            raise DataError(f"{label}: not valid {encoding} text ({err})") from err
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_table(
    files: SourceFiles,
    name: str,
    *,
    sep: str,
    columns: list[str],
    numeric: list[str],
    header: bool,
    encoding: str | None = None,
    min_fields: int | None = None,
    float32: list[str] = (),
) -> pd.DataFrame:
    """Read one delimited file into a frame with `columns`, checking its shape and numbers.

    Without a header, each row must have at least `min_fields` (default: all) fields, and the first
    len(columns) are kept. With a header, every name in `columns` must be present. Every column in
    `numeric` must parse as a finite number in every row, and those in `float32` (stored as float32
    later) must fit its range. Errors name the file, the row and the column.
    """
    label = files.label(name)
    text = decode(files.read_bytes(name), encoding, label)
    if not text.strip():
        raise DataError(f"{label}: file is empty")
    if len(sep) > 1:
        text = text.replace(sep, _UNIT_SEPARATOR)
        sep = _UNIT_SEPARATOR
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=0 if header else None,
            dtype=str,
            keep_default_na=False,
            quoting=0 if header else 3,  # CSV files quote titles; headerless GroupLens files do not
            engine="c",
        )
    except pd.errors.ParserError as err:
        raise DataError(f"{label}: cannot be parsed with separator {sep!r}: {err}") from err
    first_line = 2 if header else 1
    if header:
        frame.columns = [str(c).strip() for c in frame.columns]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"{label}: missing column(s) {missing}; found {list(frame.columns)} (is the separator {sep!r} right?)"
            )
        frame = frame[columns]
    else:
        needed = len(columns) if min_fields is None else min_fields
        if frame.shape[1] < needed:
            raise DataError(
                f"{label}: expected {needed} fields separated by {sep!r}, found {frame.shape[1]} (wrong separator?)"
            )
        frame = frame.iloc[:, : len(columns)]
        frame.columns = columns
        raise_at_first_bad_row(
            frame.iloc[:, :needed].isna().any(axis=1),
            lambda row: f"{label}, line {row + first_line}: fewer than {needed} fields",
        )
    for col in numeric:
        raw = frame[col].fillna("")
        values = pd.to_numeric(raw.str.strip(), errors="coerce")
        raise_at_first_bad_row(
            values.isna(),
            lambda row, col=col, raw=raw: (
                f"{label}, line {row + first_line}: column {col!r} has non-numeric value {raw.iloc[row]!r}"
            ),
        )
        # "inf", "Infinity" and "1e999" parse as numbers; one of them turns every embedding into NaN.
        raise_at_first_bad_row(
            ~np.isfinite(values.to_numpy(dtype=np.float64)),
            lambda row, col=col, raw=raw: (
                f"{label}, line {row + first_line}: column {col!r} has non-finite value {raw.iloc[row]!r}"
            ),
        )
        if col in float32:
            raise_at_first_bad_row(
                np.abs(values.to_numpy(dtype=np.float64)) > np.finfo(np.float32).max,
                lambda row, col=col, raw=raw: (
                    f"{label}, line {row + first_line}: column {col!r} has a value out "
                    f"of float32 range: {raw.iloc[row]!r}"
                ),
            )
        frame[col] = values
    return frame
