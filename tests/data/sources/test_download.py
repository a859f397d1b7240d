import hashlib
import urllib.error
import zipfile

import pytest

from pinsage.data.schema import DataError
from pinsage.data.sources import download


def _serve_from(monkeypatch, folder):
    monkeypatch.setattr(download, "BASE_URL", folder.as_uri())


def test_offline_gives_a_clear_error(monkeypatch, tmp_path):
    def refuse(url, timeout):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(download.urllib.request, "urlopen", refuse)
    with pytest.raises(DataError, match="offline.*data.path"):
        download.ensure_movielens_zip("ml-100k", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_verified_download_lands_once(monkeypatch, tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    with zipfile.ZipFile(remote / "ml-100k.zip", "w") as archive:
        archive.writestr("ml-100k/u.data", "1\t1\t5\t1\n")
    md5 = hashlib.md5((remote / "ml-100k.zip").read_bytes()).hexdigest()
    _serve_from(monkeypatch, remote)
    monkeypatch.setitem(download.KNOWN_MD5, "ml-100k", md5)
    raw = tmp_path / "raw"
    path = download.ensure_movielens_zip("ml-100k", raw)
    assert path == raw / "ml-100k.zip" and path.read_bytes() == (remote / "ml-100k.zip").read_bytes()
    assert [p.name for p in raw.iterdir()] == ["ml-100k.zip"]  # no temporary file left
    (remote / "ml-100k.zip").unlink()
    assert download.ensure_movielens_zip("ml-100k", raw) == path  # not fetched again


def test_checksum_mismatch_keeps_nothing(monkeypatch, tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "ml-1m.zip").write_bytes(b"not the real zip")
    _serve_from(monkeypatch, remote)
    raw = tmp_path / "raw"
    with pytest.raises(DataError, match="MD5"):
        download.ensure_movielens_zip("ml-1m", raw)
    assert not raw.exists()  # the folder this download created is gone with its partial file


def test_published_md5_used_for_releases_without_a_known_sum(monkeypatch, tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "ml-32m.zip").write_bytes(b"zip bytes")
    (remote / "ml-32m.zip.md5").write_text(f"{hashlib.md5(b'zip bytes').hexdigest()}  ml-32m.zip\n")
    _serve_from(monkeypatch, remote)
    assert download.ensure_movielens_zip("ml-32m", tmp_path / "raw").read_bytes() == b"zip bytes"


def test_a_zip_already_in_the_raw_folder_is_checked_before_use(tmp_path):
    """A corrupt or replaced zip left in data/01_raw was used without its checksum."""
    (tmp_path / "ml-100k.zip").write_bytes(b"not the release")
    with pytest.raises(DataError, match=r"ml-100k\.zip has MD5 .*, expected 0e33842e24a9c977be4e0107933c0723"):
        download.ensure_movielens_zip("ml-100k", tmp_path)
