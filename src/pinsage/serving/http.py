"""The similar-items service over HTTP (FastAPI): a JSON API for products and a page for people.

Every handler reads the served set once (`PublishedSetHolder.served`) and answers from it alone, so a
reload in the middle of a request never mixes two publications. FastAPI and uvicorn are the optional
`serve` extra (`pip install -e '.[serve]'`).
"""

from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from pinsage.serving import page
from pinsage.serving.batching import BatchingSearcher
from pinsage.serving.config import ServeConfig
from pinsage.serving.reloading import PublishedSetHolder
from pinsage.serving.similar_items import ServedSet, UnknownItems, search_directly


class SimilarRequest(BaseModel):
    """POST /similar: the items to answer for, and how many neighbours each."""

    item_ids: list[str]
    k: int = 10


def validation_error(_request: Request, err: RequestValidationError) -> JSONResponse:
    """422 naming each bad field, without echoing its input: a NaN, Infinity or 1e400 in a JSON body made
    FastAPI's own handler fail to encode the echo (a 500), and a huge input would be sent back whole."""
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in err.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def describe_publication(served: ServedSet) -> dict:
    """What `/version` says: which run is served, trained on what, and how it validated."""
    record = served.publication
    return {
        "run": record["version"],
        "model": record["artifacts"].get("model_weights"),
        "embeddings": record["artifacts"].get("item_embeddings"),
        "dataset": record.get("dataset"),
        "validation": {record["metric"]: record["value"]},
        "published_at": record.get("published_at"),
        "items": len(served),
        "index": type(served.index).__name__,
    }


def create_app(holder: PublishedSetHolder, config: ServeConfig, watch: bool = True) -> FastAPI:
    """The service answering from `holder`; with `watch`, its watcher runs while the app does."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if watch:
            holder.start()
        try:
            yield
        finally:
            if watch:
                holder.stop()

    app = FastAPI(title="PinSage similar items", lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, validation_error)
    search_index = BatchingSearcher().search if config.batch_searches else search_directly

    def served() -> ServedSet:
        current = holder.served
        if current is None:
            raise HTTPException(503, "no published set is loaded yet")
        return current

    def unknown(err: UnknownItems, current: ServedSet) -> HTTPException:
        return HTTPException(404, f"{err} in the published run {current.version}")

    def checked_query(q: str) -> str:
        """A title query within `serve.max_query_chars` and `serve.max_query_words`, or a 422 naming `q`."""
        if len(q) > config.max_query_chars or len(q.split()) > config.max_query_words:
            raise HTTPException(
                422,
                f"q: at most {config.max_query_chars} characters and {config.max_query_words} words "
                "(serve.max_query_chars, serve.max_query_words)",
            )
        return q

    @app.get("/healthz")
    def healthz(response: Response) -> dict:
        """Ready once a set is loaded; a failed reload is reported here while the old set keeps serving."""
        status = holder.status()
        if not status["ready"]:
            response.status_code = 503
        return status

    @app.get("/version")
    def version() -> dict:
        return describe_publication(served())

    # `:path`: an item id may hold a "/" (the page links to it percent-encoded, which arrives decoded).
    @app.get("/items/{item_id:path}/similar")
    def similar(item_id: str, k: int = Query(10, ge=1, le=config.max_k)) -> dict:
        current = served()
        try:
            rows = current.rows([item_id])
        except UnknownItems as err:
            raise unknown(err, current) from None
        [neighbours] = current.nearest(rows, k, search_index)
        return {"version": current.version, "item": current.describe(int(rows[0])), "similar": neighbours}

    @app.post("/similar")
    def similar_many(request: SimilarRequest) -> dict:
        if not 1 <= len(request.item_ids) <= config.max_items_per_request:
            raise HTTPException(
                422, f"item_ids: give 1 to {config.max_items_per_request} items (serve.max_items_per_request)"
            )
        if not 1 <= request.k <= config.max_k:
            raise HTTPException(422, f"k: must be between 1 and {config.max_k} (serve.max_k)")
        current = served()
        try:
            rows = current.rows(request.item_ids)
        except UnknownItems as err:
            raise unknown(err, current) from None
        answers = current.nearest(rows, request.k, search_index)
        return {
            "version": current.version,
            "results": [
                {"item": current.describe(int(row)), "similar": neighbours}
                for row, neighbours in zip(rows, answers, strict=True)
            ],
        }

    @app.get("/items")
    def search_titles(
        q: str = Query(..., min_length=1), limit: int = Query(config.search_limit, ge=1, le=1000)
    ) -> dict:
        current = served()
        q = checked_query(q)
        return {"version": current.version, "query": q, "items": current.search(q, limit)}

    @app.get("/", response_class=HTMLResponse)
    def home(q: str = "") -> str:
        current = served()
        q = checked_query(q)
        return page.search_page(describe_publication(current), q, current.search(q, config.search_limit))

    @app.get("/browse/{item_id:path}", response_class=HTMLResponse)
    def browse(item_id: str, k: int = Query(10, ge=1, le=config.max_k)) -> HTMLResponse:
        current = served()
        try:
            rows = current.rows([item_id])
        except UnknownItems as err:
            body = page.not_found_page(describe_publication(current), str(err))
            return HTMLResponse(body, status_code=404)
        [neighbours] = current.nearest(rows, k, search_index)
        return HTMLResponse(page.item_page(describe_publication(current), current.describe(int(rows[0])), neighbours))

    return app
