import numpy as np

from pinsage.data.schema import dense_columns, validate
from pinsage.data.sources.synthetic import SyntheticWorld, _search_by_topic, generate_world


def test_seeded_and_sized():
    world = SyntheticWorld(n_pins=200, n_boards=100, n_topics=10, dense_dim=4, seed=3)
    a, b = generate_world(world), generate_world(world)
    validate(a)
    assert a.interactions.equals(b.interactions) and a.items.equals(b.items)
    assert len(a.items) == 200 and len(a.users) == 100
    assert dense_columns(a.items) == ["dense_0", "dense_1", "dense_2", "dense_3"]
    assert len(a.interactions) > 100 * 10
    other = generate_world(world.model_copy(update={"seed": 4}))
    assert not other.interactions.equals(a.interactions)


def test_topics_are_planted():
    """A board's consecutive saves share a topic far more often than chance, so there is signal."""
    world = SyntheticWorld(n_pins=400, n_boards=200, n_topics=20, dense_dim=0, seed=0)
    data = generate_world(world)
    # The topic is hidden, but its words are not: topic words are "t<topic * words_per_topic + j>".
    topic = np.array(
        [
            int(next(w for w in text.split() + ["t-1"] if w.startswith("t"))[1:]) // world.words_per_topic
            for text in data.items["text"]
        ]
    )
    events = data.interactions.sort_values(["user", "timestamp"], kind="stable")
    same_board = events["user"].to_numpy()[1:] == events["user"].to_numpy()[:-1]
    items = events["item"].to_numpy()
    known = (topic[items[1:]] >= 0) & (topic[items[:-1]] >= 0) & same_board
    same_topic = (topic[items[1:]] == topic[items[:-1]])[known].mean()
    assert same_topic > 0.4  # chance is 1/20


def test_pin_texts_are_built_from_the_topic_and_common_vocabularies():
    """Titles, texts and labels are assembled by Arrow from small vocabularies: each pin's text is 3 to 7
    words, its title the first two of them title-cased, its labels one category or two different ones."""
    world = SyntheticWorld(n_pins=300, n_boards=50, n_topics=10, dense_dim=0, seed=1)
    items = generate_world(world).items
    assert items["item_id"].tolist() == [f"pin{i}" for i in range(300)]
    for title, text, labels in zip(items["title"], items["text"], items["categories"], strict=True):
        words = text.split()
        assert 3 <= len(words) <= 7
        assert all(w[0] in "tw" and w[1:].isdigit() for w in words)
        assert title == " ".join(words[:2]).title()
        parts = labels.split("|")
        assert all(p.startswith("cat") for p in parts) and len(set(parts)) == len(parts) <= 2
    assert items["categories"].str.contains("|", regex=False).any()


def test_saves_searched_topic_by_topic_land_where_one_search_of_all_pins_lands():
    rng = np.random.default_rng(3)
    topic = rng.choice([0, 1, 2, 4, 5, 9], 5_000)  # topics 3, 6, 7, 8 have no pins
    weights = rng.lognormal(0.0, 1.0, topic.size)
    sorted_topic = np.sort(topic)
    mass = np.bincount(sorted_topic, weights=weights)
    within = np.cumsum(weights) - np.concatenate([[0], np.cumsum(mass)])[sorted_topic]
    cumulative = sorted_topic + within / mass[sorted_topic]
    save_topic = rng.choice(np.unique(topic), 20_000)
    key = save_topic + rng.random(save_topic.size) * (1 - 1e-12)
    expected = np.searchsorted(cumulative, key, side="right")
    np.testing.assert_array_equal(_search_by_topic(cumulative, sorted_topic, key, save_topic), expected)

    # At a topic's very start or end a key stays in its topic's segment (one search of all pins can
    # put a key exactly at t on topic t - 1's last pin, whose cumulative weight rounds to just above t).
    edges = np.unique(topic)
    edge_topic, edge_key = np.concatenate([edges, edges]), np.concatenate([edges, edges + 1 - 1e-12])
    pick = _search_by_topic(cumulative, sorted_topic, edge_key, edge_topic)
    segment = np.searchsorted(sorted_topic, np.arange(topic.max() + 2))
    assert np.all((segment[edge_topic] <= pick) & (pick <= segment[edge_topic + 1]))
