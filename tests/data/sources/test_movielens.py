import zipfile

import pytest

from pinsage.data.schema import validate
from pinsage.data.sources.files import SourceFiles
from pinsage.data.sources.movielens import load_movielens


def _zip_folder(folder, zip_path, top):
    with zipfile.ZipFile(zip_path, "w") as archive:
        for file in folder.iterdir():
            archive.write(file, f"{top}/{file.name}")
    return zip_path


def test_ml100k_folder(ml100k_dir):
    data = load_movielens("ml-100k", SourceFiles(ml100k_dir))
    validate(data)
    items = data.items.set_index("item_id")
    assert items.loc["2", "title"] == "Café Society (1995)"  # latin-1 decoded
    assert items.loc["1", "year"] == 1995
    assert items.loc["3", "year"] == 0  # no year in title or date
    assert items.loc["1", "categories"] == "Comedy"
    assert items.loc["2", "categories"] == "Action|Drama"
    assert items.loc["3", "categories"] == ""  # only the "unknown" genre
    # The duplicate (user 1, item 2) keeps its earliest rating only.
    assert len(data.interactions) == 4
    assert not data.interactions.duplicated(["user", "item"]).any()


def test_ml100k_zip_with_top_folder(ml100k_dir, tmp_path):
    zip_path = _zip_folder(ml100k_dir, tmp_path / "ml-100k.zip", "ml-100k")
    from_zip = load_movielens("ml-100k", SourceFiles(zip_path))
    from_dir = load_movielens("ml-100k", SourceFiles(ml100k_dir))
    assert from_zip.interactions.equals(from_dir.interactions)
    assert from_zip.items.equals(from_dir.items)


@pytest.mark.parametrize("release", ["ml-1m", "ml-10m"])
def test_dat_layout(ml1m_dir, tmp_path, release):
    source = ml1m_dir
    if release == "ml-10m":  # the 10M zip keeps its files under ml-10M100K/
        source = _zip_folder(ml1m_dir, tmp_path / "ml-10m.zip", "ml-10M100K")
    data = load_movielens(release, SourceFiles(source))
    items = data.items.set_index("item_id")
    assert items.loc["10", "title"].startswith("Amélie")
    assert items.loc["10", "year"] == 2001
    assert items.loc["20", "categories"] == "Action|Sci-Fi"
    assert items.loc["20", "title"] == "Star Wars: Episode IV - A New Hope (1977)"  # single colons kept
    assert items.loc["30", "year"] == 0 and items.loc["30", "categories"] == ""
    assert len(data.interactions) == 4 and len(data.users) == 2


def test_csv_layout(csv_dir):
    data = load_movielens("ml-latest-small", SourceFiles(csv_dir))
    items = data.items.set_index("item_id")
    assert items.loc["2", "title"] == "American President, The (1995)"
    assert items.loc["3", "year"] == 1994  # "(1994-1998)"
    assert items.loc["3", "categories"] == ""  # "(no genres listed)"
    assert data.interactions["timestamp"].tolist() == [964982703, 964981247, 964982224, 964983815]


def test_min_rating_filters(csv_dir):
    data = load_movielens("ml-latest-small", SourceFiles(csv_dir), min_rating=4.0)
    assert len(data.interactions) == 3
