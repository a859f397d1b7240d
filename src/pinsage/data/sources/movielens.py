"""MovieLens in its original GroupLens layouts: 100K, 1M/10M (`::` .dat files) and the CSV releases."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pinsage.data.schema import Dataset, assemble
from pinsage.data.sources.files import SourceFiles, read_table

# Which file layout each release uses; the key is also the name of its official zip.
LAYOUTS = {
    "ml-100k": "100k",
    "ml-1m": "dat",
    "ml-10m": "dat",
    "ml-20m": "csv",
    "ml-25m": "csv",
    "ml-32m": "csv",
    "ml-latest": "csv",
    "ml-latest-small": "csv",
}

ML100K_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
]  # fmt: skip

# "Toy Story (1995)", "Babylon 5 (1994-1998)", "Hamlet (1996) " all carry a year at the end.
_TITLE_YEAR = re.compile(r"\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$")
_NO_GENRES = {"(no genres listed)", "unknown"}


def load_movielens(release: str, files: SourceFiles, min_rating: float | None = None) -> Dataset:
    """Read a MovieLens release from its folder or zip into the canonical tables.

    `min_rating` keeps only ratings at or above it (None keeps every rating as an implicit interaction).
    """
    layout = LAYOUTS[release]
    if layout == "100k":
        ratings = _headerless_ratings(files, "u.data", "\t")
        items = _ml100k_items(files)
    elif layout == "dat":
        ratings = _headerless_ratings(files, "ratings.dat", "::")
        movies = read_table(
            files,
            "movies.dat",
            sep="::",
            columns=["item_id", "title", "genres"],
            integers=["item_id"],
            header=False,
        )
        items = _movies_from_genre_strings(movies)
    else:
        ratings = read_table(
            files,
            "ratings.csv",
            sep=",",
            columns=["userId", "movieId", "rating", "timestamp"],
            integers=["userId", "movieId", "timestamp"],
            numeric=["rating"],
            non_negative=["timestamp"],
            header=True,
            encoding="utf-8",
        ).rename(columns={"userId": "user_id", "movieId": "item_id"})
        movies = read_table(
            files,
            "movies.csv",
            sep=",",
            columns=["movieId", "title", "genres"],
            integers=["movieId"],
            header=True,
            encoding="utf-8",
        ).rename(columns={"movieId": "item_id"})
        items = _movies_from_genre_strings(movies)
    if min_rating is not None:
        ratings = ratings[ratings["rating"] >= min_rating]
    events = pd.DataFrame(
        {
            "user_id": ratings["user_id"].astype(str),
            "item_id": ratings["item_id"].astype(str),
            "timestamp": ratings["timestamp"],
            "source_file": ratings["source_file"],
            "source_line": ratings["source_line"],
        }
    )
    items["item_id"] = items["item_id"].astype(np.int64).astype(str)
    return assemble(events, items, source=f"{release} at {files.path}")


def _headerless_ratings(files: SourceFiles, name: str, sep: str) -> pd.DataFrame:
    """`user_id, item_id, rating, timestamp` without a header: u.data (100K) and ratings.dat (1M, 10M)."""
    return read_table(
        files,
        name,
        sep=sep,
        columns=["user_id", "item_id", "rating", "timestamp"],
        integers=["user_id", "item_id", "timestamp"],
        numeric=["rating"],
        non_negative=["timestamp"],
        header=False,
    )


def _ml100k_items(files: SourceFiles) -> pd.DataFrame:
    genres = ML100K_GENRES
    if files.has("u.genre"):
        table = read_table(
            files,
            "u.genre",
            sep="|",
            columns=["genre", "index"],
            integers=["index"],
            header=False,
            encoding="latin-1",
        )
        genres = list(table.sort_values("index")["genre"])
    flags = [f"genre_{i}" for i in range(len(genres))]
    # u.item has 5 descriptive fields then one 0/1 flag per genre; some releases lack the flags.
    movies = read_table(
        files,
        "u.item",
        sep="|",
        columns=["item_id", "title", "release_date", "video_release_date", "url", *flags],
        integers=["item_id"],
        header=False,
        encoding="latin-1",
        min_fields=2,
    )
    flag_values = movies[flags].fillna("0").apply(pd.to_numeric, errors="coerce").fillna(0)
    names = np.array(genres, dtype=object)
    categories = ["|".join(g for g in names[row.astype(bool)] if g not in _NO_GENRES) for row in flag_values.to_numpy()]
    release_year = movies["release_date"].fillna("").str.extract(r"(\d{4})\s*$")[0]
    year = _title_year(movies["title"]).fillna(pd.to_numeric(release_year, errors="coerce"))
    return pd.DataFrame(
        {
            "item_id": movies["item_id"],
            "title": movies["title"].fillna(""),
            "categories": categories,
            "year": year.fillna(0).astype(np.int64),
        }
    )


def _movies_from_genre_strings(movies: pd.DataFrame) -> pd.DataFrame:
    categories = [
        "|".join(g for g in str(s).split("|") if g and g not in _NO_GENRES) for s in movies["genres"].fillna("")
    ]
    return pd.DataFrame(
        {
            "item_id": movies["item_id"],
            "title": movies["title"].fillna(""),
            "categories": categories,
            "year": _title_year(movies["title"]).fillna(0).astype(np.int64),
        }
    )


def _title_year(titles: pd.Series) -> pd.Series:
    return pd.to_numeric(titles.fillna("").str.extract(_TITLE_YEAR)[0], errors="coerce")
