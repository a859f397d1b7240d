"""Warm start: begin a retraining from the published model's weights where they still mean the same.

Between two scheduled runs the catalogue and the feature vocabularies change (new items, new words).
The rows of the ID, category, word and year tables are matched by what they stand for (item id, label,
word, year), not by position: a row whose key the published model knew starts from its learnt vector,
a new key from its fresh initialisation. Every other weight must have the same shape, or the run trains
from scratch and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Embedding tables whose rows are keyed, and how many leading rows are reserved (padding/unknown).
KEYED_TABLES = {
    "projector.item_id.weight": ("items", 0),
    "projector.categories.weight": ("categories", 1),
    "projector.words.weight": ("words", 1),
    "projector.year.weight": ("years", 1),
}


@dataclass(frozen=True)
class WarmStart:
    state_dict: dict[str, torch.Tensor] | None  # None: train from scratch
    message: str


def model_keys(item_ids: list[str], vocabulary: dict[str, list]) -> dict[str, list]:
    """What each keyed table's rows stand for, in row order (after the reserved rows)."""
    return {
        "items": [str(i) for i in item_ids],
        "categories": list(vocabulary["categories"]),
        "words": list(vocabulary["words"]),
        "years": list(vocabulary["years"]),
    }


def warm_start_state(
    fresh: dict[str, torch.Tensor],
    published: dict[str, torch.Tensor],
    fresh_keys: dict[str, list],
    published_keys: dict[str, list],
    published_version: str,
) -> WarmStart:
    """The fresh model's state with the published model's weights carried over where they apply."""
    if set(fresh) != set(published):
        missing = sorted(set(fresh) ^ set(published))[0]
        return WarmStart(
            None,
            f"the published model {published_version} has other layers ({missing!r} differs): "
            "model settings changed, training from scratch",
        )
    for name, tensor in fresh.items():
        if name not in KEYED_TABLES and tensor.shape != published[name].shape:
            return WarmStart(
                None,
                f"the published model {published_version}'s {name} is {list(published[name].shape)}, "
                f"this run's is {list(tensor.shape)} (hidden size or feature widths changed): "
                "training from scratch",
            )
    state = {name: published[name].clone() for name in fresh if name not in KEYED_TABLES}
    carried = []
    for name, (kind, reserved) in KEYED_TABLES.items():
        if name not in fresh:
            continue
        table = fresh[name].clone()
        old_row = {key: row for row, key in enumerate(published_keys[kind])}
        pairs = [(new, old_row[key]) for new, key in enumerate(fresh_keys[kind]) if key in old_row]
        if pairs:
            new_rows, old_rows = (torch.tensor(x) + reserved for x in zip(*pairs, strict=True))
            table[new_rows] = published[name][old_rows]
        table[:reserved] = published[name][:reserved]
        state[name] = table
        carried.append(f"{len(pairs)}/{len(fresh_keys[kind])} {kind}")
    return WarmStart(state, f"warm start from published model {published_version}: carried over " + ", ".join(carried))


@dataclass(frozen=True)
class PublishedModel:
    """What a warm start needs of the published model, as plain data (it travels to torchrun ranks)."""

    version: str
    state_dict: dict[str, torch.Tensor]
    keys: dict[str, list]  # `model_keys` of its catalogue and vocabulary
    model_settings_changed: list[str]  # `TrainedWith.differences` against this run's settings


def warm_start_from(
    published: PublishedModel | None, fresh: dict[str, torch.Tensor], keys: dict[str, list]
) -> WarmStart:
    """The fresh model's state with the published weights carried over, or why training starts from scratch."""
    if published is None:
        return WarmStart(None, "warm start asked for, but nothing is published yet: training from scratch")
    result = warm_start_state(fresh, published.state_dict, keys, published.keys, published.version)
    if result.state_dict is None and published.model_settings_changed:
        return WarmStart(None, f"{result.message} ({'; '.join(published.model_settings_changed)})")
    return result
