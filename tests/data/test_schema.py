import pandas as pd
import pytest

from pinsage.data.schema import DataError, assemble, id_codes

ITEMS = pd.DataFrame({"item_id": ["a", "b", "c"], "title": ["A", "B", "C"]})


def events(user_ids, item_ids, timestamps) -> pd.DataFrame:
    return pd.DataFrame({"user_id": user_ids, "item_id": item_ids, "timestamp": timestamps})


def test_categorical_ids_index_as_their_text_does():
    """A source may hand its ids over as categoricals (the synthetic world does, so 100M events never
    become 100M strings): the tables are those of the same ids as text, users in order of first event."""
    users, items, times = ["u2", "u1", "u2", "u3", "u1"], ["c", "a", "c", "b", "b"], [5, 1, 2, 3, 4]
    as_text = assemble(events(users, items, times), ITEMS.copy(), source="test")
    categorical = events(
        pd.Categorical(users, categories=["u3", "u1", "u2"]), pd.Categorical(items, categories=["c", "b", "a"]), times
    )
    as_codes = assemble(categorical, ITEMS.copy(), source="test")
    pd.testing.assert_frame_equal(as_codes.interactions, as_text.interactions)
    pd.testing.assert_frame_equal(as_codes.users, as_text.users)
    assert as_text.users["user_id"].tolist() == ["u2", "u1", "u3"]
    # The repeated pair (u2, c) keeps its earliest event, in source order.
    assert as_text.interactions.values.tolist() == [[1, 0, 1], [0, 2, 2], [2, 1, 3], [1, 1, 4]]


def test_ids_equal_as_text_are_one_id():
    codes, ids = id_codes(pd.Series([1, "1", "x", 1.5, "1.5"], dtype=object))
    assert ids.tolist() == ["1", "x", "1.5"] and codes.tolist() == [0, 0, 1, 2, 2]


def test_an_unknown_categorical_item_names_its_row_and_id():
    bad = events(pd.Categorical(["u1", "u2"]), pd.Categorical(["a", "zz"]), [1, 2])
    with pytest.raises(DataError, match=r"test: row 2: item 'zz' is not in the item table"):
        assemble(bad, ITEMS.copy(), source="test")
    users = pd.DataFrame({"user_id": ["u1"]})
    with pytest.raises(DataError, match=r"test: row 2: user 'u2' is not in the user table"):
        assemble(events(["u1", "u2"], ["a", "b"], [1, 2]), ITEMS.copy(), source="test", users=users)
