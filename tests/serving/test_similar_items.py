"""Item-to-item answers from one published set: the item itself excluded, titles of new items, clear
errors for unknown ids and for an index that is not the table's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pinsage.serving.index import IndexConfig, build_embedding_index, build_inner_product_index
from pinsage.serving.similar_items import UnknownItems, item_details, served_set

# Four items on a circle (a, b, c close together, d opposite) and a new item e next to a.
ANGLES = {"a": 0.0, "b": 0.3, "c": 0.5, "d": 3.1, "e": -0.1}


def embeddings_table(ids=tuple(ANGLES)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": range(len(ids)),
            "item_id": list(ids),
            "embedding": [np.array([np.cos(ANGLES[i]), np.sin(ANGLES[i])], dtype=np.float32) for i in ids],
        }
    )


def catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": range(4),
            "item_id": ["a", "b", "c", "d"],
            "title": ["Alien (1979)", "Aliens (1986)", "Blade Runner (1982)", "Amélie (2001)"],
            "categories": ["Sci-Fi|Horror", "Sci-Fi", "Sci-Fi", ""],
        }
    )


def served(kind: str = "exact"):
    table = embeddings_table()
    index = build_inner_product_index(np.stack(table["embedding"]), IndexConfig(kind=kind, ivf_lists=1))
    new = pd.DataFrame({"item_id": ["e"], "title": ["Alien: Romulus (2024)"], "categories": ["Sci-Fi"]})
    return served_set({"version": "v1"}, table, index, item_details(catalogue(), new))


@pytest.mark.parametrize("kind", ["exact", "ivf", "hnsw"])
def test_similar_items_are_the_nearest_without_the_item_itself(kind):
    answers = served(kind).similar(["a", "d"], k=3)
    assert [n["item_id"] for n in answers[0]] == ["e", "b", "c"]
    assert answers[0][0]["title"] == "Alien: Romulus (2024)"  # a new item, titled from its batch
    assert [n["score"] for n in answers[0]] == sorted((n["score"] for n in answers[0]), reverse=True)
    assert "d" not in [n["item_id"] for n in answers[1]] and len(answers[1]) == 3
    described = {"item_id": "b", "title": "Aliens (1986)", "categories": ["Sci-Fi"]}
    assert answers[0][1] == {**described, "score": answers[0][1]["score"]}


def test_a_table_with_priors_is_served_by_cosine_plus_the_candidates_prior():
    """c is a's third nearest by cosine (0.88 against e's 0.99); its prior of 0.2 puts it first. The item
    asked for is still left out though its own score (1 + its prior) is the highest."""
    table = embeddings_table().assign(prior=np.array([0.15, 0.0, 0.2, 0.0, 0.0], dtype=np.float32))
    index = build_embedding_index(table, IndexConfig(kind="exact"))
    answers = served_set({"version": "v1"}, table, index, item_details(catalogue())).similar(["a", "b"], k=3)
    assert [n["item_id"] for n in answers[0]] == ["c", "e", "b"]
    assert answers[0][0]["score"] == pytest.approx(np.cos(0.5) + 0.2, abs=1e-5)
    assert [n["item_id"] for n in answers[1]] == ["c", "a", "e"]
    without_priors = build_inner_product_index(np.stack(table["embedding"]))
    with pytest.raises(ValueError, match="not one publication's"):
        served_set({"version": "v1"}, table, without_priors, item_details(catalogue()))


def test_unknown_ids_are_named_all_at_once():
    with pytest.raises(UnknownItems) as raised:
        served().similar(["a", "zz", "yy"], k=2)
    assert raised.value.ids == ["zz", "yy"] and "'zz', 'yy'" in str(raised.value)


def test_an_index_of_other_embeddings_is_refused():
    table = embeddings_table()
    other = build_inner_product_index(np.stack(table["embedding"][:3]))
    with pytest.raises(ValueError, match="index holds 3 vectors .* 5 rows"):
        served_set({"version": "v1"}, table, other, item_details(catalogue()))


def test_title_search_needs_every_word_and_puts_title_starts_first():
    found = served().search("ALIEN", limit=10)
    assert [i["item_id"] for i in found] == ["a", "b", "e"]
    assert [i["item_id"] for i in served().search("alien 2024", limit=10)] == ["e"]
    assert served().search("runner blade", limit=10)[0]["item_id"] == "c"
    assert served().search("  ", limit=10) == [] and served().search("(", limit=2) == []  # no word in it
    # A query word matches the start of a title word: "lie" is inside "alien", but starts none.
    assert served().search("lie", limit=10) == [] and [i["item_id"] for i in served().search("am", 10)] == ["d"]
    assert served().describe(3)["categories"] == []
