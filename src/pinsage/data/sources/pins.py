"""Pinterest-style data: pins, optional boards, and timestamped saves of pins to boards.

Files, in a folder or zip (CSV with a header row, UTF-8):

- `pins.csv` (required): `pin_id`; optional `title`, `categories` ("|"-separated labels), `year`
  (an integer category such as a creation year), `text` (free text), and `dense_0 … dense_{k-1}`
  (a dense visual or text vector, one float per column).
- `boards.csv` (optional): `board_id`, one row per board; other columns are ignored. When present,
  every save must name a listed board.
- `saves.csv` (required): `board_id`, `pin_id`, `timestamp` (integer seconds since the epoch, or an
  ISO-8601 date-time).

Boards play the users' role in the bipartite graph.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pinsage.data.schema import (
    DENSE_PREFIX,
    LARGEST_TIMESTAMP,
    DataError,
    Dataset,
    assemble,
    bad_timestamps,
    raise_at_first_bad_row,
)
from pinsage.data.sources.files import SourceFiles, decode, read_table

OPTIONAL_PIN_COLUMNS = ("title", "categories", "year", "text")


def load_pins(files: SourceFiles) -> Dataset:
    pin_columns = _header(files, "pins.csv")
    wanted = ["pin_id"] + [c for c in pin_columns if c in OPTIONAL_PIN_COLUMNS]
    dense = sorted(
        (c for c in pin_columns if c.startswith(DENSE_PREFIX)),
        key=lambda c: int(c[len(DENSE_PREFIX) :]) if c[len(DENSE_PREFIX) :].isdigit() else -1,
    )
    for col in dense:
        if not col[len(DENSE_PREFIX) :].isdigit():
            raise DataError(f"{files.label('pins.csv')}: column {col!r} is not of the form dense_<n>")
    if dense and [int(c[len(DENSE_PREFIX) :]) for c in dense] != list(range(len(dense))):
        raise DataError(f"{files.label('pins.csv')}: dense columns must be dense_0 … dense_{len(dense) - 1}")
    numeric = dense + (["year"] if "year" in wanted else [])
    pins = read_table(
        files,
        "pins.csv",
        sep=",",
        columns=wanted + dense,
        numeric=numeric,
        float32=dense,
        non_empty=["pin_id"],
        header=True,
        encoding="utf-8",
    ).rename(columns={"pin_id": "item_id"})
    saves = read_table(
        files,
        "saves.csv",
        sep=",",
        columns=["board_id", "pin_id", "timestamp"],
        non_empty=["board_id", "pin_id"],
        header=True,
        encoding="utf-8",
    )
    saves["timestamp"] = _timestamps(saves["timestamp"], files.label("saves.csv"))
    events = saves.rename(columns={"board_id": "user_id", "pin_id": "item_id"})
    boards = None
    if files.has("boards.csv"):
        boards = read_table(
            files,
            "boards.csv",
            sep=",",
            columns=["board_id"],
            non_empty=["board_id"],
            header=True,
            encoding="utf-8",
        ).rename(columns={"board_id": "user_id"})
    return assemble(events, pins, source=f"pins at {files.path}", users=boards)


def _header(files: SourceFiles, name: str) -> list[str]:
    text = decode(files.read_bytes(name), "utf-8", files.label(name))
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise DataError(f"{files.label(name)}: file is empty")
    return [c.strip() for c in first.split(",")]


def _timestamps(raw: pd.Series, label: str) -> np.ndarray:
    """Integer seconds; ISO-8601 strings are accepted too, since exports often write dates."""
    numbers = pd.to_numeric(raw.str.strip(), errors="coerce")
    raise_at_first_bad_row(
        numbers < 0, lambda row: f"{label}, line {row + 2}: column 'timestamp' has negative value {raw.iloc[row]!r}"
    )
    raise_at_first_bad_row(
        numbers.notna() & bad_timestamps(numbers),
        lambda row: (
            f"{label}, line {row + 2}: column 'timestamp' has {raw.iloc[row]!r}, not whole seconds between 0 and "
            f"{LARGEST_TIMESTAMP}"
        ),
    )
    if numbers.notna().all():
        return numbers.to_numpy(dtype=np.int64)
    dates = pd.to_datetime(raw.where(numbers.isna()), errors="coerce", utc=True, format="ISO8601")
    raise_at_first_bad_row(
        numbers.isna() & dates.isna(),
        lambda row: (
            f"{label}, line {row + 2}: column 'timestamp' has value {raw.iloc[row]!r}, "
            "neither integer seconds nor an ISO-8601 date-time"
        ),
    )
    seconds = numbers.copy()
    parsed = dates.notna()
    # pandas 3 picks the datetime resolution per input, so convert via a Timedelta, not int64 units.
    seconds[parsed] = (dates[parsed] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    return seconds.to_numpy(dtype=np.int64)
