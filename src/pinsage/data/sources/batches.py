"""Files dropped into a folder one per day or batch: new interactions, new items.

Each file keeps its name and line numbers beside its rows (`source_file`, `source_line`), so an error
found after the batches are joined still names the file and line it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from pinsage.data.schema import (
    LARGEST_TIMESTAMP,
    DataError,
    Dataset,
    among,
    bad_timestamps,
    extend_user_index,
    index_events,
    keep_earliest_pairs,
    raise_at_first_bad_row,
    where,
)

BATCH_EVENT_COLUMNS = ("user_id", "item_id", "timestamp")


def concat_batches(partitions: Mapping[str, Callable[[], pd.DataFrame]], required: tuple[str, ...]) -> pd.DataFrame:
    """All batches (file path → loader), in name order, so dated names give time order; each is
    checked for the `required` columns."""
    frames = []
    for name in sorted(partitions):
        frame = partitions[name]()
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise DataError(f"{name}: lacks column(s) {missing}; needs {list(required)}")
        frames.append(frame.assign(source_file=name, source_line=np.arange(len(frame)) + 2))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in (*required, "source_file", "source_line")})
    return pd.concat(frames, ignore_index=True)


def batch_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Batch interactions as source events, with integer timestamps; a bad value names its file and line."""
    for column in ("user_id", "item_id"):
        raise_at_first_bad_row(
            frame[column].isna() | (frame[column].astype(str).str.strip() == ""),
            lambda row, column=column: f"{where(frame, row)}: {column} is empty",
        )
    timestamps = pd.to_numeric(frame["timestamp"], errors="coerce")
    raise_at_first_bad_row(
        timestamps < 0, lambda row: f"{where(frame, row)}: timestamp {frame['timestamp'].iloc[row]!r} is negative"
    )
    raise_at_first_bad_row(
        bad_timestamps(timestamps),
        lambda row: (
            f"{where(frame, row)}: timestamp {frame['timestamp'].iloc[row]!r} is not whole seconds "
            f"between 0 and {LARGEST_TIMESTAMP}"
        ),
    )
    return frame.assign(
        user_id=frame["user_id"].astype(str),
        item_id=frame["item_id"].astype(str),
        timestamp=timestamps.astype(np.int64),
    )


def add_interaction_batches(dataset: Dataset, batches: pd.DataFrame) -> Dataset:
    """The source's tables with the batches' interactions added, repeated (user, item) pairs dropped.

    Items must already be in the source's item table (an error names the file and line otherwise);
    users may be new. A pair seen before, in the source or an earlier batch, keeps its earliest event.
    """
    if batches.empty:
        return dataset
    events = batch_events(batches)
    item_index = pd.Index(dataset.items["item_id"])
    raise_at_first_bad_row(
        ~among(events["item_id"], item_index),
        lambda row: (
            f"{where(events, row)}: item {events['item_id'].iloc[row]!r} is not in the source's item "
            "table; new items go through the embed_new_items pipeline"
        ),
    )
    user_index = extend_user_index(dataset.users["user_id"], events["user_id"])
    added = index_events(events, user_index, item_index)
    return Dataset(
        interactions=keep_earliest_pairs(pd.concat([dataset.interactions, added], ignore_index=True)),
        items=dataset.items,
        users=pd.DataFrame({"user": np.arange(len(user_index), dtype=np.int64), "user_id": user_index}),
    )
