"""The browsing page: server-rendered HTML (no build step, no script), so a person can search the
catalogue by title, open an item and walk from neighbour to neighbour before trusting a new model."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d2330; }
header { border-bottom: 1px solid #d0d5dd; padding-bottom: .6rem; margin-bottom: 1rem; }
header h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
header p { margin: 0; color: #556; font-size: .9rem; }
form input[type=text] { width: 24rem; padding: .35rem; font-size: 1rem; }
form button { padding: .35rem .8rem; font-size: 1rem; }
table { border-collapse: collapse; width: 100%; margin-top: .8rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e4e7ec; }
td.score { font-variant-numeric: tabular-nums; text-align: right; }
.tag { display: inline-block; background: #eef1f6; border-radius: .3rem; padding: 0 .35rem; margin-right: .25rem;
       font-size: .8rem; }
.muted { color: #667; }
"""


def search_page(publication: dict, query: str, found: list[dict]) -> str:
    """The search box, and for a query the items whose titles match it, each a link to its neighbours."""
    if not query:
        results = '<p class="muted">Search the catalogue by words of an item\'s title.</p>'
    elif not found:
        results = f'<p id="no-results">No item title holds every word of “{escape(query)}”.</p>'
    else:
        rows = "".join(f"<tr><td>{_item_link(item)}</td><td>{_tags(item)}</td></tr>" for item in found)
        results = f'<table id="results"><tr><th>item</th><th>categories</th></tr>{rows}</table>'
    return _document("Search", publication, _search_form(query) + results)


def item_page(publication: dict, item: dict, neighbours: list[dict]) -> str:
    """One item, and its nearest items by the served embeddings, each a link to its own page."""
    rows = "".join(
        f'<tr><td>{rank}</td><td>{_item_link(n)}</td><td>{_tags(n)}</td><td class="score">{n["score"]:.4f}</td></tr>'
        for rank, n in enumerate(neighbours, 1)
    )
    body = (
        _search_form("")
        + f'<h2 id="item">{escape(_label(item))}</h2>'
        + f'<p>{_tags(item)} <span class="muted">id {escape(item["item_id"])}</span></p>'
        + '<table id="similar"><tr><th>#</th><th>similar item</th><th>categories</th><th>score</th></tr>'
        + f"{rows}</table>"
    )
    return _document(_label(item), publication, body)


def not_found_page(publication: dict, message: str) -> str:
    return _document("Not found", publication, _search_form("") + f'<p id="not-found">{escape(message)}</p>')


def _document(title: str, publication: dict, body: str) -> str:
    [(metric, value)] = publication["validation"].items()
    run = f"published run {escape(publication['run'])}"
    if publication.get("published_at"):
        run += f" at {escape(publication['published_at'])}"
    if publication.get("model") not in (None, publication["run"]):
        run += f" (model trained in run {escape(publication['model'])})"
    header = (
        '<header><h1><a href="/">PinSage similar items</a></h1>'
        f'<p id="version">{run} · {publication["items"]:,} items · validation {escape(metric)} {value:.4f} · '
        f"index {escape(publication['index'])}</p></header>"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · PinSage</title>'
        f"<style>{STYLE}</style></head><body>{header}{body}</body></html>"
    )


def _search_form(query: str) -> str:
    return (
        '<form action="/" method="get"><input type="text" name="q" placeholder="title words" '
        f'value="{escape(query)}" autofocus> <button type="submit">Search</button></form>'
    )


def _label(item: dict) -> str:
    return item["title"] or item["item_id"]


def _item_link(item: dict) -> str:
    return f'<a href="/browse/{quote(item["item_id"], safe="")}">{escape(_label(item))}</a>'


def _tags(item: dict) -> str:
    return "".join(f'<span class="tag">{escape(c)}</span>' for c in item["categories"])
