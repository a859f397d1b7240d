"""The `serve` parameters: where the similar-items service listens and what it answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    host: str = Field("127.0.0.1", description="address to listen on (0.0.0.0: every interface)")
    port: int = Field(8000, ge=0, le=65535, description="TCP port (0: any free one)")
    poll_seconds: float = Field(5.0, gt=0, description="how often the published pointer is checked for a new run")
    max_k: int = Field(100, ge=1, description="the most neighbours one item may ask for")
    max_items_per_request: int = Field(1000, ge=1, description="the most items one POST /similar may ask about")
    search_limit: int = Field(20, ge=1, description="items a title search returns at most")
    max_query_chars: int = Field(200, ge=1, description="the longest title search query (`q`) answered")
    max_query_words: int = Field(10, ge=1, description="the most words a title search query may hold")
    batch_searches: bool = Field(
        True, description="search concurrent requests together in one faiss call (pinsage.serving.batching)"
    )
