"""Inductive inference: items the model never saw get embeddings, trained items keep theirs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from pinsage.data.features import FeatureConfig, encode_items
from pinsage.data.schema import DataError
from pinsage.data.sources.batches import concat_batches
from pinsage.evaluation.metrics import EvaluationConfig
from pinsage.graph.config import NeighbourConfig
from pinsage.inductive.attach import TrainedItems, attach_new_items, new_item_inputs
from pinsage.jobs.evaluate import evaluate_new_items
from pinsage.jobs.train import TrainSettings, fit
from pinsage.model.inference import embed_added_items, embed_all_items, layer_tables
from pinsage.model.pinsage import ModelConfig, PinSage
from pinsage.training.config import TrainConfig
from tests.worlds import planted_world, trained_with


@pytest.fixture(scope="module")
def world():
    """A planted-topic world with 15% of its items held out of everything the model is trained on."""
    w = planted_world(held_out=0.15, n_pins=600, n_boards=600, n_topics=30, saves_per_board=20, dense_dim=8, seed=3)
    inputs = w.inputs
    return {
        "users": w.users,
        "held": w.held,
        "train": w.train,
        "features": inputs.features,
        "vocabulary": inputs.vocabulary,
        "neighbourhoods": inputs.neighbourhoods,
        "inputs": inputs,
        "graph": inputs.graph,
        "trained": TrainedItems(
            inputs.features, inputs.vocabulary, inputs.neighbourhoods, trained_with(w, ModelConfig(hidden_dim=16))
        ),
    }


def embed_with_new_items(model, attached, trained, graph, chunk_size: int = 65536) -> torch.Tensor:
    """The reference: one layer-wise pass over the catalogue and the new items together."""
    features, neighbours, weights = new_item_inputs(attached, trained, graph)
    return embed_all_items(
        model,
        {name: torch.cat([trained.features[name], features[name]]) for name in trained.features},
        torch.cat([trained.neighbourhoods["neighbours"], neighbours]),
        torch.cat([trained.neighbourhoods["weights"], weights]),
        chunk_size=chunk_size,
    )


def untrained_model(world) -> PinSage:
    torch.manual_seed(0)
    return PinSage(world["trained"].trained_with.feature_sizes, ModelConfig(hidden_dim=16))


def test_new_items_are_appended_and_attached_through_their_interactions(world):
    held = world["held"]
    attached = attach_new_items(held.catalogue, world["users"], held.held_out_items, held.held_out_interactions)
    n = len(held.catalogue)
    assert attached.new_items.tolist() == list(range(n, n + len(held.held_out_items)))
    assert attached.new_rows["item_id"].tolist() == held.held_out_items["item_id"].tolist()
    added = attached.added
    assert len(added) == len(held.held_out_interactions) and (added["item"] >= n).all()
    ids = attached.new_rows["item_id"].to_numpy()[added["item"].to_numpy() - n]
    assert ids.tolist() == held.held_out_interactions["item_id"].tolist()


def test_trained_items_keep_their_embeddings_and_new_items_get_graph_neighbours(world):
    held, model = world["held"], untrained_model(world)
    attached = attach_new_items(held.catalogue, world["users"], held.held_out_items, held.held_out_interactions)
    n = len(held.catalogue)
    every = embed_with_new_items(model, attached, world["trained"], world["graph"])
    trained = embed_all_items(model, world["features"], *world["neighbourhoods"].values())
    torch.testing.assert_close(every[:n], trained)
    assert every.shape == (attached.n_items, 16) and torch.isfinite(every).all()
    # With one hop per walk, a new item's neighbours are the items its first users interacted with.
    new_item = int(attached.added["item"].iloc[-1])
    one_hop = NeighbourConfig(inference_random_walks=50, num_traversals=1)
    _, neighbours, weights = new_item_inputs(
        attached,
        replace(
            world["trained"], trained_with=world["trained"].trained_with.model_copy(update={"neighbourhood": one_hop})
        ),
        world["graph"],
    )
    every_edge = pd.concat([world["train"], attached.added])
    its_users = every_edge.loc[every_edge["item"] == new_item, "user"]
    co_items = set(every_edge.loc[every_edge["user"].isin(its_users), "item"]) - {new_item}
    found = set(neighbours[new_item - n][weights[new_item - n] > 0].tolist())
    assert found and found <= co_items


def test_added_items_embedded_from_the_trained_layer_tables_match_a_full_pass(world):
    """What the new-item evaluation does for each snapshot: only the new items' rows are computed."""
    held, model = world["held"], untrained_model(world)
    attached = attach_new_items(held.catalogue, world["users"], held.held_out_items, held.held_out_interactions)
    n = len(held.catalogue)
    every = embed_with_new_items(model, attached, world["trained"], world["graph"], chunk_size=50)
    earlier = layer_tables(model, world["features"], *world["neighbourhoods"].values(), chunk_size=50)
    assert len(earlier) == 2 and all(len(t) == n for t in earlier)  # projection and conv 1 of 2
    before = [table.clone() for table in earlier]
    inputs = new_item_inputs(attached, world["trained"], world["graph"])
    added = embed_added_items(model, earlier, *inputs, chunk_size=7)
    torch.testing.assert_close(added, every[n:])
    # The trained tables are read, never written: every snapshot reuses them.
    assert all(torch.equal(a, b) for a, b in zip(earlier, before, strict=True))
    features, neighbours, weights = inputs
    none = embed_added_items(model, earlier, {k: v[:0] for k, v in features.items()}, neighbours[:0], weights[:0])
    assert none.shape == (0, every.shape[1])


def test_new_items_are_encoded_with_the_trained_vocabularies(world):
    catalogue, features, vocabulary = world["held"].catalogue, world["features"], world["vocabulary"]
    degree = np.bincount(world["train"]["item"], minlength=len(catalogue))
    again = encode_items(catalogue.iloc[:50], degree[:50], vocabulary, FeatureConfig())
    for name, tensor in again.items():
        torch.testing.assert_close(tensor, features[name][:50])


def batches(tmp_path, name: str, frame: pd.DataFrame):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return {str(path): lambda: pd.read_csv(path, dtype={"user_id": str, "item_id": str})}


def test_bad_new_items_fail_naming_file_and_line(world, tmp_path):
    held = world["held"]
    dense = {f"dense_{i}": [0.1, 0.2] for i in range(8)}
    items = concat_batches(
        batches(tmp_path, "items.csv", pd.DataFrame({"item_id": ["n1", "n2"], **dense})), ("item_id",)
    )
    events = concat_batches(
        batches(
            tmp_path,
            "events.csv",
            pd.DataFrame({"user_id": ["b1", "b2"], "item_id": ["n1", "n9"], "timestamp": [1, 2]}),
        ),
        ("user_id", "item_id", "timestamp"),
    )
    with pytest.raises(DataError, match=r"events\.csv, line 3: interaction on item 'n9'"):
        attach_new_items(held.catalogue, world["users"], items, events)
    no_dense = concat_batches(batches(tmp_path, "bare.csv", pd.DataFrame({"item_id": ["n1"]})), ("item_id",))
    with pytest.raises(DataError, match="lack 8 of the 8 dense columns"):
        attach_new_items(held.catalogue, world["users"], no_dense, events.iloc[:1])
    twice = concat_batches(
        batches(tmp_path, "a.csv", pd.DataFrame({"item_id": ["n1"], **{k: [0.0] for k in dense}}))
        | batches(tmp_path, "b.csv", pd.DataFrame({"item_id": ["n1"], **{k: [0.0] for k in dense}})),
        ("item_id",),
    )
    with pytest.raises(DataError, match=r"b\.csv, line 2: item 'n1' is listed as new more than once"):
        attach_new_items(held.catalogue, world["users"], twice, events.iloc[:1])


def test_items_trained_since_are_skipped_not_duplicated(world):
    held = world["held"]
    already = held.catalogue.iloc[:2].drop(columns="item")
    attached = attach_new_items(
        held.catalogue,
        world["users"],
        pd.concat([already, held.held_out_items.iloc[:3]]),
        pd.DataFrame({"user_id": ["board1"], "item_id": [already["item_id"].iloc[0]], "timestamp": [5]}),
    )
    assert len(attached.new_items) == 3 and attached.added.empty


def test_trained_pinsage_ranks_held_out_items_better_than_popularity(world):
    """The inductive learning test: a briefly trained model, items it never saw, and their users."""
    settings = TrainSettings(
        neighbourhood=NeighbourConfig(inference_random_walks=50),
        model=ModelConfig(hidden_dim=32),
        training=TrainConfig(epochs=3, batches_per_epoch=60, batch_size=128, num_negatives=100, seed=0),
    )
    result = fit(world["inputs"], settings)
    model = result.trained_with.build_network(result.state_dict, world["vocabulary"])
    trained = replace(world["trained"], trained_with=result.trained_with)
    held = world["held"]
    result = evaluate_new_items(
        model,
        held.catalogue,
        world["users"],
        world["graph"],
        world["inputs"].train_interactions,
        held.held_out_items,
        held.held_out_interactions,
        trained,
        EvaluationConfig(k=10),
    )
    hits = {name: m["hits@10"] for name, m in result["methods"].items()}
    assert result["items"] == 90 and result["methods"]["pinsage"]["users"] > 100
    assert hits["pinsage"] > 1.5 * hits["popularity"], hits
    # Folding in the taste of an item's users adds what its own vector misses (0.45 against 0.38 here).
    assert hits["pinsage"] > hits["pinsage_own"] + 0.02, hits
    assert len({m["users"] for m in result["methods"].values()}) == 1  # one protocol for every method


def test_a_day_without_new_items_attaches_nothing(world):
    """A scheduled `embed_new_items` run on a day with no files: the trained catalogue, unchanged."""
    held = world["held"]
    nothing = concat_batches({}, ("item_id",))
    no_events = concat_batches({}, ("user_id", "item_id", "timestamp"))
    attached = attach_new_items(held.catalogue, world["users"], nothing, no_events)
    assert len(attached.new_items) == 0 and attached.n_items == len(held.catalogue)
    assert attached.added.empty
    # Embedded as any day is: the trained items' embeddings, nothing added (the world has dense columns).
    model = untrained_model(world)
    every = embed_with_new_items(model, attached, world["trained"], world["graph"])
    torch.testing.assert_close(every, embed_all_items(model, world["features"], *world["neighbourhoods"].values()))


def test_a_new_item_with_a_non_finite_dense_value_is_rejected(world, tmp_path):
    """It would get a NaN embedding, published in the table and the index."""
    held = world["held"]
    dense = {f"dense_{i}": [0.1] for i in range(8)} | {"dense_3": ["inf"]}
    items = concat_batches(batches(tmp_path, "items.csv", pd.DataFrame({"item_id": ["n1"], **dense})), ("item_id",))
    no_events = concat_batches({}, ("user_id", "item_id", "timestamp"))
    with pytest.raises(DataError, match=r"items\.csv, line 2: dense_3 is not a finite number"):
        attach_new_items(held.catalogue, world["users"], items, no_events)


def test_new_items_are_evaluated_only_from_interactions_before_each_query(world):
    """The new-item protocol must not use the future: interactions after every target (here a flood of
    one-off users on one new item) change no method's figures. Attaching every held-out interaction up
    front, as it used to, made that item the most popular and moved popularity, item-kNN and PinSage."""
    held = world["held"]
    events = held.held_out_interactions
    flood = pd.DataFrame(
        {
            "user_id": [f"late{i}" for i in range(200)],
            "item_id": events["item_id"].iloc[0],
            "timestamp": events["timestamp"].max() + 1,
        }
    )

    train = world["inputs"].train_interactions
    # Training interactions after every target: a new item's users' taste must not see them either.
    late_training = train.assign(timestamp=events["timestamp"].max() + 1, item=lambda f: f["item"].to_numpy()[::-1])

    def figures(interactions: pd.DataFrame, training: pd.DataFrame = train) -> dict:
        return evaluate_new_items(
            untrained_model(world),
            held.catalogue,
            world["users"],
            world["graph"],
            training,
            held.held_out_items,
            interactions,
            world["trained"],
            EvaluationConfig(k=10, new_item_snapshots=4),
        )

    before = figures(events)
    with_future = figures(pd.concat([events, flood], ignore_index=True), pd.concat([train, late_training]))
    assert len(before["snapshots"]) == 4 and before["methods"]["pinsage"]["users"] > 50
    for part in ("methods", "choosing"):
        for method in ("pinsage", "popularity", "itemknn", "next_items", "pinsage_cold"):
            assert with_future[part][method]["mrr"] == before[part][method]["mrr"], (part, method)
    # Each group of targets is answered from the interactions before its earliest target only.
    assert [s["attached"] for s in before["snapshots"]] == sorted(s["attached"] for s in before["snapshots"])
    first = before["snapshots"][0]["before"]
    assert before["snapshots"][0]["attached"] == int((events["timestamp"] < first).sum())


def test_held_out_items_no_user_came_back_to_are_no_new_item_queries(world):
    """Without a user with two held-out interactions there is no group of targets: the evaluation says
    so instead of failing (the report then says why there is no new-item table)."""
    held = world["held"]
    once = held.held_out_interactions.drop_duplicates("user_id")
    result = evaluate_new_items(
        untrained_model(world),
        held.catalogue,
        world["users"],
        world["graph"],
        world["inputs"].train_interactions,
        held.held_out_items,
        once,
        world["trained"],
        EvaluationConfig(k=10),
    )
    assert result["items"] == len(held.held_out_items) and result["methods"] == {} and result["snapshots"] == []
