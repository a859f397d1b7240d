import numpy as np
import pandas as pd
import pytest

from pinsage.evaluation.metrics import (
    DenseRows,
    EvaluationConfig,
    EvaluationQueries,
    evaluate,
    metrics_from_ranks,
    ranks,
)
from pinsage.evaluation.scorers import EmbeddingScorer, ItemKnnScorer, NextItemsScorer, PopularityScorer, PriorScorer
from pinsage.graph.engagement import EngagementSequence


def test_latest_training_item_is_the_query_and_training_items_are_excluded():
    train = pd.DataFrame({"user": [0, 0, 0], "item": [3, 1, 2], "timestamp": [1, 3, 2]})
    held_out = pd.DataFrame({"user": [0], "item": [4], "timestamp": [9]})
    queries = EvaluationQueries(train, held_out, n_users=1, n_items=6)
    assert queries.queries.tolist() == [1]
    seen_queries = []

    def scorer(q):
        seen_queries.extend(q.tolist())
        # Training items 1, 2, 3 score highest but are excluded; then 5 beats the target 4.
        return np.array([[0.0, 9.0, 9.0, 9.0, 2.0, 3.0]])

    assert ranks(DenseRows(scorer, 6), queries).tolist() == [2]
    assert seen_queries == [1]


def test_ties_are_broken_by_item_index():
    train = pd.DataFrame({"user": [0], "item": [0], "timestamp": [1]})
    held_out = pd.DataFrame({"user": [0], "item": [3], "timestamp": [2]})
    queries = EvaluationQueries(train, held_out, 1, 5)
    assert ranks(DenseRows(lambda q: np.ones((1, 5)), 5), queries).tolist() == [3]  # items 1 and 2 tie ahead


def test_metrics_from_ranks():
    m = metrics_from_ranks(np.array([1, 2, 11]), k=10)
    assert m["hits@10"] == pytest.approx(2 / 3)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / np.log2(3)) / 3)
    assert m["mrr"] == pytest.approx((1 + 0.5 + 1 / 11) / 3)


def test_itemknn_is_cosine_of_user_sets():
    train = pd.DataFrame({"user": [0, 0, 1, 1, 2], "item": [0, 1, 0, 2, 1], "timestamp": range(5)})
    x = np.zeros((3, 3))
    x[train["user"], train["item"]] = 1
    norms = np.sqrt(x.sum(0))
    expected = (x.T @ x) / np.outer(norms, norms)
    np.testing.assert_allclose(ItemKnnScorer(train, 3, 3).rows(np.array([2, 0])), expected[[2, 0]])


def test_popularity_and_embedding_scorers():
    train = pd.DataFrame({"user": [0, 1, 1], "item": [2, 2, 0], "timestamp": range(3)})
    assert PopularityScorer(train, 3).rows(np.array([0, 1])).tolist() == [[1, 0, 2], [1, 0, 2]]
    e = np.eye(3, dtype=np.float32)
    assert EmbeddingScorer(e).rows(np.array([1])).tolist() == [[0, 1, 0]]


def test_perfect_scorer_hits_everything():
    train = pd.DataFrame({"user": [0, 1], "item": [0, 1], "timestamp": [1, 1]})
    held_out = pd.DataFrame({"user": [0, 1], "item": [2, 3], "timestamp": [2, 2]})
    queries = EvaluationQueries(train, held_out, 2, 4)
    oracle = {0: 2, 1: 3}

    def scorer(q):
        s = np.zeros((len(q), 4))
        s[np.arange(len(q)), [oracle[i] for i in q]] = 1
        return s

    figures = evaluate(DenseRows(scorer, 4), queries, k=10)
    assert figures["hits@10"] == 1.0 and figures["mrr"] == 1.0


def test_nan_scores_are_an_error_not_hits():
    """NaN compares false with everything, so a NaN model used to rank every target first (HITS@10 = 1.0)."""
    train = pd.DataFrame({"user": [0, 1], "item": [0, 1], "timestamp": [1, 1]})
    held_out = pd.DataFrame({"user": [0, 1], "item": [2, 3], "timestamp": [2, 2]})
    queries = EvaluationQueries(train, held_out, n_users=2, n_items=4)
    with pytest.raises(ValueError, match="scores are not finite"):
        evaluate(DenseRows(lambda q: np.full((len(q), 4), np.nan), 4), queries, k=10)
    broken = np.ones((4, 3), dtype=np.float32)
    broken[1, 0] = np.nan
    with pytest.raises(ValueError, match="scores are not finite"):
        evaluate(EmbeddingScorer(broken), queries, k=10)


def ranking_world(seed: int, n_users: int = 120, n_items: int = 300):
    """Users with a few earlier items each and one held-out item, some items never interacted with."""
    rng = np.random.default_rng(seed)
    per_user = rng.integers(1, 12, n_users)
    users = np.repeat(np.arange(n_users), per_user)
    popular = rng.zipf(1.6, len(users)) % (n_items // 2)  # half the catalogue has no interaction at all
    history = pd.DataFrame({"user": users, "item": popular, "timestamp": rng.integers(0, 100, len(users))})
    history = history.drop_duplicates(["user", "item"])
    targets = rng.integers(0, n_items, n_users)
    held_out = pd.DataFrame({"user": np.arange(n_users), "item": targets, "timestamp": 1000})
    held_out = held_out.merge(history[["user", "item"]], how="left", indicator=True)
    held_out = held_out[held_out["_merge"] == "left_only"].drop(columns="_merge")
    return history, EvaluationQueries(history, held_out, n_users, n_items)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_method_ranks_exactly_as_its_dense_scores_rank(seed):
    """Embeddings (chunked over items), popularity (one sorted key) and item-kNN (sparse rows) rank
    without a dense [queries, items] matrix; each must give the ranks its dense rows give, ties included:
    repeated embedding rows, items with equal counts, and the many items item-kNN scores zero."""
    history, queries = ranking_world(seed)
    n_items = queries.n_items
    rng = np.random.default_rng(seed)
    vectors = rng.integers(-2, 3, (40, 8)).astype(np.float32)[rng.integers(0, 40, n_items)]  # many exact ties
    scorers = [
        EmbeddingScorer(vectors),
        PopularityScorer(history, n_items),
        ItemKnnScorer(history, queries.seen.shape[0], n_items),
        # Fitted on part of the history, as on the test split (fitted on training, validation items seen):
        # some seen items then share no user with the query and score zero.
        ItemKnnScorer(history.sample(frac=0.6, random_state=seed), queries.seen.shape[0], n_items),
        NextItemsScorer(EngagementSequence(history, 3), n_items, window=2),
    ]
    for scorer in scorers:
        expected = ranks(DenseRows(scorer.rows, n_items), queries)
        np.testing.assert_array_equal(ranks(scorer, queries), expected, err_msg=type(scorer).__name__)
    # Blocks of items smaller than the catalogue (targets and seen items in every block), odd batches;
    # with a popularity prior too (repeated values: ties across the prior as well).
    prior = rng.integers(0, 3, n_items).astype(np.float32) * 0.5
    for chunked in (EmbeddingScorer(vectors), EmbeddingScorer(vectors, prior)):
        chunked.batch_size, chunked.items_per_block = 7, 13
        np.testing.assert_array_equal(ranks(chunked, queries), ranks(DenseRows(chunked.rows, n_items), queries))


def test_next_items_counts_the_items_engaged_within_the_window_either_way():
    history = pd.DataFrame({"user": [0, 0, 0, 0, 1, 1], "item": [1, 2, 3, 1, 3, 2], "timestamp": [1, 2, 3, 4, 1, 2]})
    sequence = EngagementSequence(history, window=3)
    rows = NextItemsScorer(sequence, n_items=4, window=1).rows(np.array([1, 2, 3]))
    # User 0: 1 2 3 1, user 1: 3 2; one step apart either way.
    np.testing.assert_array_equal(rows, [[0, 0, 1, 1], [0, 1, 0, 2], [0, 1, 2, 0]])
    wider = NextItemsScorer(sequence, n_items=4, window=3).rows(np.array([1]))
    # The rows counted per query equal the whole count matrix the hard negatives exclude by.
    history, queries = ranking_world(6)
    sequence = EngagementSequence(history, window=4)
    for window in (1, 2, 4):
        counted = NextItemsScorer(sequence, queries.n_items, window).rows(np.arange(queries.n_items))
        whole = EngagementSequence(history, window).window_counts(queries.n_items).toarray()
        np.testing.assert_array_equal(counted, whole)
    np.testing.assert_array_equal(wider, [[0, 0, 2, 2]])  # 1 2 3 1: each of 2 and 3 twice; 1 with 1 is no pair


def test_a_prior_keeps_the_baselines_ranking_at_zero_and_adds_popularity_otherwise():
    history, queries = ranking_world(4)
    n_items = queries.n_items
    base = ItemKnnScorer(history, queries.seen.shape[0], n_items)
    degree = np.log1p(np.bincount(history["item"], minlength=n_items))
    np.testing.assert_array_equal(ranks(PriorScorer(base, 0 * degree), queries), ranks(base, queries))
    rows = PriorScorer(base, 0.1 * degree).rows(np.array([queries.queries[0]]))
    raw = base.rows(np.array([queries.queries[0]]))
    np.testing.assert_allclose(rows, raw / raw.max() + 0.1 * degree)


def test_a_grid_of_priors_ranks_as_each_prior_alone_from_one_computation_of_the_base_rows():
    """Choosing a prior weight costs one base computation per batch, not one per weight: the ranks are each
    weight's `PriorScorer` ranks exactly (ties across the prior included)."""
    from pinsage.evaluation.baselines import option_ranks

    history, queries = ranking_world(5)
    n_items = queries.n_items
    base = NextItemsScorer(EngagementSequence(history, 3), n_items, window=3)
    calls = []
    counted = DenseRows(lambda q: calls.append(len(q)) or base.rows(q), n_items)
    degree = np.log1p(np.bincount(history["item"], minlength=n_items))
    weights = [0.0, 0.01, 0.1, 1.0]
    found = option_ranks(counted, weights, degree, queries)
    for weight, got in zip(weights, found, strict=True):
        alone = base if weight == 0 else PriorScorer(base, weight * degree)
        np.testing.assert_array_equal(got, ranks(alone, queries), err_msg=f"prior {weight}")
    assert sum(calls) == 2 * len(queries)  # the raw ranking once, then every prior from one pass


def test_the_embedding_score_adds_the_candidates_prior_as_the_index_does():
    """cosine + the candidate's prior, never the query's: what an index of [embedding, prior] rows
    searched with [embedding, 1] returns."""
    from pinsage.serving.index import build_inner_product_index

    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 6)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    prior = rng.uniform(0, 0.5, 50).astype(np.float32)
    rows = EmbeddingScorer(x, prior).rows(np.arange(5))
    np.testing.assert_allclose(rows, x[:5] @ x.T + prior[None, :], rtol=1e-6)
    index = build_inner_product_index(np.hstack([x, prior[:, None]]), with_prior=True)
    scores, found = index.search(np.hstack([x[:5], np.ones((5, 1), np.float32)]), 50)
    np.testing.assert_allclose(np.take_along_axis(rows, found, axis=1), scores, rtol=1e-5)
    with pytest.raises(ValueError, match="a prior of shape"):
        EmbeddingScorer(x, prior[:10])


def test_index_recall_is_one_for_an_exact_index_and_low_for_another_one():
    from pinsage.serving.index import build_inner_product_index, index_recall

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    exact = index_recall(build_inner_product_index(x), x, k=10, queries=100)
    assert exact == {"recall@10": 1.0, "queries": 100, "items": 300, "index": "IndexFlatIP"}
    other = rng.normal(size=(300, 16)).astype(np.float32)
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    assert index_recall(build_inner_product_index(other), x, k=10, queries=100)["recall@10"] < 0.2


def test_exact_top_k_over_chunks_equals_one_sort():
    from pinsage.serving.index import exact_top_k

    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 4)).astype(np.float32)
    x[rng.integers(0, 50, 30)] = x[rng.integers(0, 50, 30)]  # repeated rows: many exactly equal scores
    x[40:] = 0.0  # and ten rows scoring 0 for every query
    scores = x[:12] @ x.T
    for k in (1, 6, 15, 50, 60):
        whole = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        for chunk in (3, 7, 50):
            np.testing.assert_array_equal(exact_top_k(x[:12], x, k, chunk_size=chunk), whole)


def test_many_users_are_evaluated_on_a_fixed_seeded_sample():
    rng = np.random.default_rng(0)
    n_users, n_items = 410, 30  # users 400-409 have a held-out item but no history: not eligible
    train = pd.DataFrame(
        {
            "user": np.repeat(np.arange(400), 3),
            "item": rng.integers(0, n_items, 1200),
            "timestamp": rng.integers(0, 3, 1200),
        }
    )
    held_out = pd.DataFrame({"user": np.arange(n_users), "item": rng.integers(0, n_items, n_users), "timestamp": 5})
    sampled = EvaluationQueries(train, held_out, n_users, n_items, max_users=100, seed=3)
    again = EvaluationQueries(train, held_out, n_users, n_items, max_users=100, seed=3)
    assert len(sampled) == 100 and sampled.eligible == 400 and sampled.users.max() < 400
    assert sampled.users.tolist() == again.users.tolist()  # the same users for every method and epoch
    assert len(set(sampled.users.tolist())) == 100
    everyone = EvaluationQueries(train, held_out, n_users, n_items)
    # The sample's figures are the figures of those users in the full evaluation.
    full_ranks = dict(zip(everyone.users.tolist(), ranks(PopularityScorer(train, n_items), everyone), strict=True))
    sample_ranks = ranks(PopularityScorer(train, n_items), sampled)
    assert sample_ranks.tolist() == [full_ranks[u] for u in sampled.users.tolist()]
    # Each query is the user's latest history item, by time then source order.
    latest = {u: g.sort_values("timestamp", kind="stable")["item"].iloc[-1] for u, g in train.groupby("user")}
    assert sampled.queries.tolist() == [latest[u] for u in sampled.users.tolist()]
    assert everyone.queries.tolist() == [latest[u] for u in everyone.users.tolist()]
    figures = evaluate(PopularityScorer(train, n_items), sampled, k=10)
    assert figures["users"] == 100 and figures["eligible_users"] == 400


def embeddings_frame(vectors: list[list[float]]) -> pd.DataFrame:
    x = np.asarray(vectors, dtype=np.float32)
    return pd.DataFrame({"item": np.arange(len(x)), "item_id": [str(i) for i in range(len(x))], "embedding": list(x)})


def test_test_target_is_ranked_from_the_validation_item_among_items_seen_in_neither():
    """Test candidates exclude everything before the target (training and validation), and the query is the
    latest of it: the validation item. Ranked from the latest training item with the validation item still a
    candidate, the target here came second."""
    from pinsage.jobs.evaluate import evaluate_trained_items

    train = pd.DataFrame({"user": [0, 0], "item": [0, 1], "timestamp": [1, 2]})
    val = pd.DataFrame({"user": [0], "item": [2], "timestamp": [3]})
    test = pd.DataFrame({"user": [0], "item": [3], "timestamp": [4]})
    vectors = [[0, 0, 1], [1, 0, 0], [0.9, 0.43, 0], [0.8, 0.6, 0], [0, 0, -1], [0, -1, 0]]
    metrics = evaluate_trained_items(embeddings_frame(vectors), train, val, test, 1, EvaluationConfig())
    assert metrics["pinsage"]["test"]["mrr"] == 1.0
    assert metrics["pinsage"]["val"]["mrr"] == 1.0  # from item 1, item 2 first (0 is excluded)


def test_intervals_cover_the_figure_and_paired_differences_are_exact_where_methods_agree():
    from pinsage.evaluation.comparison import compare_methods

    rng = np.random.default_rng(0)
    n = 2000
    good = rng.integers(1, 30, n)
    ranked = {"pinsage": good, "same": good.copy(), "worse": good + 100}
    out = compare_methods(ranked, np.zeros(n, dtype=np.int64), n, EvaluationConfig(k=10))
    hits = out["pinsage"]["hits@10"]
    low, high = out["pinsage"]["interval"]["hits@10"]
    standard_error = np.sqrt(hits * (1 - hits) / n)
    assert low < hits < high and abs((high - low) / 2 - 1.96 * standard_error) < 0.2 * standard_error
    assert out["pinsage"]["difference"]["same"]["hits@10"] == [0.0, 0.0, 0.0]
    d, d_low, d_high = out["pinsage"]["difference"]["worse"]["hits@10"]
    assert d == pytest.approx(hits) and d_low > 0  # "worse" never hits
    assert compare_methods(ranked, np.zeros(n, dtype=np.int64), n, EvaluationConfig(k=10)) == out  # seeded
    assert out["same"]["eligible_users"] == n and "difference" not in out["same"]


def test_figures_are_split_by_the_target_items_training_interactions():
    from pinsage.evaluation.comparison import compare_methods

    degree = np.array([0, 4, 5, 19, 20, 150])
    rank = np.array([1, 50, 1, 1, 50, 50])
    out = compare_methods({"pinsage": rank}, degree, 6, EvaluationConfig(k=10, degree_buckets=[5, 20, 100]))
    buckets = out["pinsage"]["by_degree"]
    assert [b["bucket"] for b in buckets] == ["< 5", "5–19", "20–99", "≥ 100"]
    assert [b["users"] for b in buckets] == [2, 2, 1, 1]
    assert [b["hits@10"] for b in buckets] == [0.5, 1.0, 0.0, 0.0]


def test_ease_is_the_closed_form_item_to_item():
    from pinsage.evaluation.scorers import ease_scorer

    train = pd.DataFrame({"user": [0, 0, 1, 1, 2, 2, 2], "item": [0, 1, 0, 2, 1, 2, 3], "timestamp": range(7)})
    x = np.zeros((3, 4))
    x[train["user"], train["item"]] = 1
    p = np.linalg.inv(x.T @ x + 2.0 * np.eye(4))
    b = np.eye(4) - p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0)
    np.testing.assert_allclose(ease_scorer(train, 3, 4, 2.0).rows(np.array([2, 0])), b[[2, 0]], rtol=1e-5, atol=1e-6)


def test_ease_lambda_is_chosen_on_validation_and_ease_is_skipped_for_large_catalogues():
    from pinsage.evaluation.report import recall_report
    from pinsage.jobs.evaluate import evaluate_trained_items

    rng = np.random.default_rng(1)
    n_users, n_items = 60, 12
    events = pd.DataFrame(
        {"user": np.repeat(np.arange(n_users), 5), "item": rng.integers(0, n_items, 5 * n_users), "timestamp": 0}
    )
    events["timestamp"] = np.tile(np.arange(5), n_users)
    train, val, test = events[events.timestamp < 3], events[events.timestamp == 3], events[events.timestamp == 4]
    vectors = rng.normal(size=(n_items, 4)).tolist()
    config = EvaluationConfig(ease_lambdas=[1.0, 1000.0])
    metrics = evaluate_trained_items(embeddings_frame(vectors), train, val, test, n_users, config)
    assert metrics["ease"]["val"]["chosen"]["l2"] in (1.0, 1000.0)
    assert metrics["next_items"]["val"]["chosen"]["window"] in config.next_items_windows
    assert {"prior"} <= set(metrics["itemknn"]["val"]["chosen"])
    assert metrics["ease"]["test"]["users"] == metrics["pinsage"]["test"]["users"]
    assert "ease" in metrics["pinsage"]["test"]["difference"]
    small = evaluate_trained_items(
        embeddings_frame(vectors), train, val, test, n_users, config.model_copy(update={"ease_max_items": 5})
    )
    assert set(small) == {"pinsage", "popularity", "itemknn", "next_items"}
    summary = {"source": "tiny", "items": n_items, "users": n_users, "train": 1, "val": 1, "test": 1}
    index = {"index": "IndexFlatIP", "items": n_items, "recall@10": 1.0, "queries": 5}
    no_new = {"items": 0, "snapshots": [], "methods": {}, "choosing": {}, "chosen": {}}
    assert "EASE was skipped: 12 items > `evaluation.ease_max_items`" in recall_report(
        small, index, no_new, summary, [], config
    )
    report = recall_report(metrics, index, no_new, summary, [], config)
    assert report.index("test HITS@10") < report.index("val HITS@10")
    assert "EASE: l2 " in report and "bootstrap intervals over users" in report and "≥ 100" in report
    # The protocol is described as the split made it: a global time cut has no "second-to-last".
    assert "second-to-last interaction" in report
    global_time = recall_report(metrics, index, no_new, {**summary, "scheme": "global_time"}, [], config)
    assert "first interaction after a cut in time" in global_time and "second-to-last" not in global_time


def test_features_only_cosine_weighs_every_kind_of_feature_alike():
    """The content baseline: each block (labels, words, year, dense vector) unit-normalised on its own,
    then the blocks' cosines summed."""
    import torch

    from pinsage.evaluation.scorers import feature_scorer

    features = {
        "categories": torch.tensor([[1, 2], [1, 0], [3, 0]]),  # 0 pads
        "words": torch.tensor([[4, 5, 6], [4, 0, 0], [0, 0, 0]]),
        "year": torch.tensor([2, 2, 0]),  # 0: unknown
        "dense": torch.tensor([[1.0, 0.0], [3.0, 4.0], [0.0, -2.0]]),
    }
    scores = feature_scorer(features).rows(np.array([0, 1, 2]))
    labels = np.array([[0, 1, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=float)
    words = np.zeros((3, 7))
    words[0, [4, 5, 6]] = 1
    words[1, 4] = 1
    year = np.array([[0, 1], [0, 1], [0, 0]], dtype=float)
    dense = features["dense"].numpy().astype(float)
    expected = np.zeros((3, 3))
    for block in (labels, words, year, dense):
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        unit = np.divide(block, norms, out=np.zeros_like(block), where=norms > 0)
        expected += unit @ unit.T
    np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=1e-12)
    assert scores[0, 1] == pytest.approx(1 / np.sqrt(2) + 1 / np.sqrt(3) + 1 + 0.6)


def test_a_report_with_held_out_items_but_no_new_item_query_says_so():
    """With one validation user and the default hold-out, no new-item group existed and the report raised
    `min() arg is an empty sequence` before the gate could refuse the run."""
    from pinsage.evaluation.report import recall_report
    from pinsage.jobs.evaluate import evaluate_trained_items

    history, queries = ranking_world(5)
    held_out = pd.DataFrame({"user": queries.users, "item": queries.targets, "timestamp": 1000})
    vectors = np.eye(queries.n_items, 4).tolist()
    config = EvaluationConfig(ease_max_items=0)
    metrics = evaluate_trained_items(
        embeddings_frame(vectors), history, held_out, held_out, queries.seen.shape[0], config
    )
    summary = {"source": "tiny", "items": queries.n_items, "users": 1, "train": 1, "val": 1, "test": 1}
    index = {"index": "IndexFlatIP", "items": queries.n_items, "recall@10": 1.0, "queries": 5}
    nothing_to_ask = {"items": 5, "snapshots": [], "methods": {}, "choosing": {}, "chosen": {}}
    report = recall_report(metrics, index, nothing_to_ask, summary, [], EvaluationConfig())
    assert "5 items were held out, but no user interacted with two of them" in report
