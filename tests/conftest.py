"""Shared fixtures: tiny datasets the tests write themselves (no test reads ../shared or the network)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

PROJECT_ROOT = Path(__file__).resolve().parents[1]

ML100K_GENRES = "unknown|0\nAction|1\nComedy|2\nDrama|3\n\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def ml100k_dir(tmp_path: Path) -> Path:
    """ML-100K layout: tab-separated u.data, latin-1 `|` u.item with genre flags, u.genre."""
    root = tmp_path / "ml-100k"
    write(
        root / "u.data",
        "1\t1\t5\t874965758\n"
        "1\t2\t3\t876893171\n"
        "2\t1\t4\t878542960\n"
        "2\t3\t1\t876893119\n"
        "1\t2\t4\t876893999\n",  # a duplicate (user 1, item 2) rated later: dropped
    )
    write(
        root / "u.item",
        "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1|0\n"
        "2|Café Society (1995)|01-Jan-1995||http://x|0|1|0|1\n"
        "3|unknown||||1|0|0|0\n",  # no year anywhere, only the "unknown" genre
        encoding="latin-1",
    )
    write(root / "u.genre", ML100K_GENRES)
    return root


@pytest.fixture
def ml1m_dir(tmp_path: Path) -> Path:
    root = tmp_path / "ml-1m"
    write(
        root / "ratings.dat",
        "1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n2::30::5::978300275\n",
    )
    write(
        root / "movies.dat",
        "10::Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)::Comedy|Romance\n"
        "20::Star Wars: Episode IV - A New Hope (1977)::Action|Sci-Fi\n"
        "30::Untitled::\n",
        encoding="latin-1",
    )
    write(root / "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
    return root


@pytest.fixture
def csv_dir(tmp_path: Path) -> Path:
    """The ml-20m … ml-latest layout: ratings.csv and movies.csv with a header, UTF-8, quoted titles."""
    root = tmp_path / "ml-latest-small"
    write(
        root / "ratings.csv",
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n2,1,4.5,964982224\n2,2,3.0,964983815\n",
    )
    write(
        root / "movies.csv",
        "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n"
        '2,"American President, The (1995)",Comedy|Drama\n3,Babylon 5 (1994-1998),(no genres listed)\n',
    )
    return root
