"""The HTTP API and the browsing page, on a tiny set (FastAPI's TestClient, no network)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from pinsage.serving.config import ServeConfig
from pinsage.serving.http import create_app
from pinsage.serving.reloading import PublishedSetHolder
from tests.serving.test_reloading import Publications

CONFIG = ServeConfig(max_k=20, max_items_per_request=5, search_limit=3)


@pytest.fixture
def published() -> Publications:
    return Publications("v1")


@pytest.fixture
def client(published) -> TestClient:
    holder = PublishedSetHolder(published.load, published.key, poll_seconds=60)
    holder.load_first()
    with TestClient(create_app(holder, CONFIG, watch=False)) as client:
        client.holder = holder
        yield client


def test_health_is_not_ready_until_a_set_is_loaded(published):
    holder = PublishedSetHolder(published.load, published.key, poll_seconds=60)
    with TestClient(create_app(holder, CONFIG, watch=False)) as client:
        assert client.get("/healthz").status_code == 503
        assert client.get("/items/i1/similar").status_code == 503
        holder.load_first()
        assert client.get("/healthz").json() == {"ready": True, "serving": "v1", "last_reload_error": None}


def test_similar_items_of_one_item(client):
    answer = client.get("/items/i3/similar", params={"k": 4}).json()
    assert answer["version"] == "v1" and answer["item"] == {"item_id": "i3", "title": "v1:i3", "categories": []}
    ids = [n["item_id"] for n in answer["similar"]]
    assert len(ids) == 4 and "i3" not in ids
    assert client.get("/items/i3/similar").json()["similar"].__len__() == 10  # k defaults to 10


@pytest.mark.parametrize("k", [0, 21, "x"])
def test_k_out_of_range_is_a_422(client, k):
    answer = client.get("/items/i3/similar", params={"k": k})
    assert answer.status_code == 422 and "k" in str(answer.json()["detail"])


def test_unknown_items_are_a_404_naming_them(client):
    answer = client.get("/items/nope/similar")
    assert answer.status_code == 404 and answer.json()["detail"] == "unknown item id(s): 'nope' in the published run v1"
    many = client.post("/similar", json={"item_ids": ["i1", "x9", "x8"]})
    assert many.status_code == 404 and "'x9', 'x8'" in many.json()["detail"]


def test_many_items_at_once(client):
    answer = client.post("/similar", json={"item_ids": ["i1", "i2"], "k": 3}).json()
    assert [r["item"]["item_id"] for r in answer["results"]] == ["i1", "i2"]
    assert all(len(r["similar"]) == 3 for r in answer["results"])
    assert answer["results"][0]["similar"] == client.get("/items/i1/similar", params={"k": 3}).json()["similar"]
    too_many = client.post("/similar", json={"item_ids": [f"i{i}" for i in range(6)]})
    assert too_many.status_code == 422 and "serve.max_items_per_request" in too_many.json()["detail"]
    assert client.post("/similar", json={"item_ids": ["i1"], "k": 99}).status_code == 422
    assert client.post("/similar", json={"k": 3}).status_code == 422


def test_title_search_and_version(client):
    found = client.get("/items", params={"q": "V1:I1"}).json()["items"]
    assert len(found) == 3 and all("v1:i1" in i["title"] for i in found)  # search_limit 3
    assert client.get("/items").status_code == 422
    version = client.get("/version").json()
    assert version["run"] == "v1" and version["items"] == 50 and version["validation"] == {"hits@10": 0.2}


def test_the_page_searches_and_links_each_neighbour_to_its_own_page(client):
    page = client.get("/", params={"q": "v1:i4"}).text
    assert 'id="version">published run v1 · 50 items · validation hits@10 0.2000' in page
    links = re.findall(r'href="(/browse/[^"]+)"', page)
    assert links and links[0] == "/browse/i4"
    item = client.get(links[0]).text
    neighbours = re.findall(r'<a href="/browse/([^"]+)">v1:\1</a>', item)
    assert len(neighbours) == 10 and "i4" not in neighbours
    missing = client.get("/browse/nope")
    assert missing.status_code == 404 and "unknown item id(s): &#x27;nope&#x27;" in missing.text


def test_answers_never_mix_two_publications_while_they_are_swapped(client, published):
    def ask(i: int) -> dict:
        return client.post("/similar", json={"item_ids": [f"i{i % 50}", f"i{(i + 7) % 50}"], "k": 5}).json()

    with ThreadPoolExecutor(4) as pool:
        pending = [pool.submit(ask, i) for i in range(300)]
        for version in range(2, 40):
            published.version = f"v{version}"
            client.holder.check()
        answers = [p.result() for p in pending]
    versions = set()
    for answer in answers:
        versions.add(answer["version"])
        titles = [r["item"]["title"] for r in answer["results"]] + [
            n["title"] for r in answer["results"] for n in r["similar"]
        ]
        assert all(t.startswith(answer["version"] + ":") for t in titles), answer
    assert len(versions) > 1  # the swaps happened while answering


@pytest.mark.parametrize(
    "body",
    ['{"item_ids": ["i5"], "k": NaN}', '{"item_ids": ["i5"], "k": Infinity}', '{"item_ids": ["i5"], "k": 1e400}'],
)
def test_a_non_finite_number_in_a_json_body_is_a_422_naming_the_field(client, body):
    """FastAPI's own handler echoed the value back, could not encode it as JSON, and answered 500."""
    answer = client.post("/similar", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "k"]


def test_a_title_query_is_capped_in_characters_and_words(client):
    """15,000 one-letter words took a full scan of the titles each."""
    many_words = " ".join("a" * 15_000)
    for path in ("/items", "/"):
        answer = client.get(path, params={"q": many_words})
        assert answer.status_code == 422 and "q: at most" in answer.text
    assert client.get("/items", params={"q": "x" * 201}).status_code == 422
    assert client.get("/items", params={"q": "v1:i3"}).status_code == 200


def test_an_unknown_id_is_quoted_shortened_in_the_404(client):
    answer = client.post("/similar", json={"item_ids": ["z" * 10_000_000]})
    assert answer.status_code == 404 and len(answer.text) < 300 and "…" in answer.json()["detail"]


def test_an_item_id_with_a_slash_is_reachable_by_the_url_the_page_builds():
    from pinsage.serving.index import build_inner_product_index
    from pinsage.serving.similar_items import item_details, served_set
    from tests.serving.test_reloading import publication

    vectors = np.eye(3, dtype=np.float32)
    ids = ["a/b", "c", "d"]
    table = pd.DataFrame({"item": range(3), "item_id": ids, "embedding": list(vectors)})
    details = pd.DataFrame({"item_id": ids, "title": ["Slash", "Plain", "Other"], "categories": ""})
    one = served_set(publication("v1"), table, build_inner_product_index(vectors), item_details(details))
    holder = PublishedSetHolder(lambda: one, lambda: "v1", poll_seconds=60)
    holder.load_first()
    with TestClient(create_app(holder, CONFIG, watch=False)) as client:
        page = client.get("/", params={"q": "slash"}).text
        [link] = re.findall(r'href="(/browse/[^"]+)"', page)
        assert link == "/browse/a%2Fb" and client.get(link).status_code == 200
        answer = client.get("/items/a%2Fb/similar")
        assert answer.status_code == 200, answer.text
        assert answer.json()["item"]["item_id"] == "a/b"
