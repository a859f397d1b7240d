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
        # Every file of each base name: a name found twice cannot be read, since which one was meant is unknown.
        self._members: dict[str, list[str]] = {}
        if self.path.is_dir():
            for file in sorted(self.path.rglob("*")):
                if file.is_file():
                    self._members.setdefault(file.name, []).append(str(file.relative_to(self.path)))
        elif zipfile.is_zipfile(self.path):
            with zipfile.ZipFile(self.path) as archive:
                for name in archive.namelist():
                    if not name.endswith("/") and "__MACOSX" not in name:
                        self._members.setdefault(PurePosixPath(name).name, []).append(name)
        else:
            raise DataError(f"data path {str(self.path)!r} is neither a folder nor a zip archive")

    def has(self, name: str) -> bool:
        return name in self._members

    def label(self, name: str) -> str:
        """Where a file lives, for error messages."""
        member = self._members.get(name, [name])[0]
        return str(self.path / member) if self.path.is_dir() else f"{self.path}:{member}"

    def read_bytes(self, name: str) -> bytes:
        if name not in self._members:
            raise DataError(f"{self.label(name)}: required file {name!r} is missing in {str(self.path)!r}")
        found = self._members[name]
        if len(found) > 1:
            raise DataError(
                f"{self.path}: two files named {name!r} ({', '.join(found)}); point data.path at the folder or "
                "zip holding only the one to use"
            )
        member = found[0]
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
    header: bool,
    encoding: str | None = None,
    min_fields: int | None = None,
    numeric: tuple[str, ...] | list[str] = (),
    integers: tuple[str, ...] | list[str] = (),
    float32: tuple[str, ...] | list[str] = (),
    non_negative: tuple[str, ...] | list[str] = (),
    non_empty: tuple[str, ...] | list[str] = (),
) -> pd.DataFrame:
    """Read one delimited file into a frame with `columns`, checking its shape and values.

    Without a header, each row must have at least `min_fields` (default: all) fields, and the first
    len(columns) are kept. With a header, every name in `columns` must be present. Column contracts:
    `numeric`: a finite number; `integers`: a whole number in the 64-bit range (an id or a timestamp,
    kept exact); `float32`: fits float32 (dense vectors are stored so); `non_negative`: not below 0;
    `non_empty`: not blank. Errors name the file, the line and the column. Every row keeps where it
    came from (`source_file`, `source_line`), so errors found later, after joins, still say so.
    """
    label = files.label(name)
    text = decode(files.read_bytes(name), encoding, label)
    if not text.strip():
        raise DataError(f"{label}: file is empty")
    shown_sep = sep  # errors show the separator as the format has it, not the stand-in below
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
        raise DataError(f"{label}: cannot be parsed with separator {shown_sep!r}: {err}") from err
    first_line = 2 if header else 1
    if header:
        frame.columns = [str(c).strip() for c in frame.columns]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"{label}: missing column(s) {missing}; found {list(frame.columns)} "
                f"(is the separator {shown_sep!r} right?)"
            )
        frame = frame[columns].copy()
    else:
        needed = len(columns) if min_fields is None else min_fields
        if frame.shape[1] < needed:
            raise DataError(
                f"{label}: expected {needed} fields separated by {shown_sep!r}, found {frame.shape[1]} "
                "(wrong separator?)"
            )
        frame = frame.iloc[:, : len(columns)].copy()
        frame.columns = columns
        raise_at_first_bad_row(
            frame.iloc[:, :needed].isna().any(axis=1),
            lambda row: f"{label}, line {row + first_line}: fewer than {needed} fields",
        )

    # Errors quote values as the file has them: the text of each converted column is kept (a reference,
    # not a copy: conversions replace columns, they do not change them in place).
    written: dict[str, pd.Series] = {}

    def check(col: str, bad, problem: str) -> None:
        raw = written.get(col, frame[col])
        raise_at_first_bad_row(
            bad, lambda row: f"{label}, line {row + first_line}: column {col!r} {problem.format(raw.iloc[row])}"
        )

    for col in non_empty:
        check(col, frame[col].fillna("").str.strip() == "", "is empty")
    for col in integers:
        written[col] = frame[col]
        text_values = frame[col].fillna("").str.strip()
        # 18 digits always fit int64; parsing through float would round (or wrap) larger ids silently.
        check(col, ~text_values.str.fullmatch(r"-?\d{1,18}"), "has {!r}, not a whole number in the 64-bit range")
        frame[col] = text_values.astype(np.int64)
    for col in numeric:
        written[col] = frame[col]
        values = pd.to_numeric(frame[col].fillna("").str.strip(), errors="coerce")
        check(col, values.isna(), "has non-numeric value {!r}")
        # "inf", "Infinity" and "1e999" parse as numbers; one of them turns every embedding into NaN.
        check(col, ~np.isfinite(values.to_numpy(dtype=np.float64)), "has non-finite value {!r}")
        if col in float32:
            check(col, np.abs(values.to_numpy(dtype=np.float64)) > np.finfo(np.float32).max,
                  "has a value out of float32 range: {!r}")  # fmt: skip
        frame[col] = values
    for col in non_negative:
        check(col, frame[col].to_numpy() < 0, "has negative value {!r}")
    # One category for the file (a byte a row, not a pointer to a string): sources reach 100M rows.
    source_file = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=[label])
    return frame.assign(source_file=source_file, source_line=np.arange(len(frame)) + first_line)
