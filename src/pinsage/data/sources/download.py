"""Fetching an official GroupLens zip once, verified and written atomically."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

from pinsage.atomic import write_atomically
from pinsage.data.schema import DataError

BASE_URL = "https://files.grouplens.org/datasets/movielens"

# MD5 sums of the frozen releases. ml-32m and the ml-latest zips change or are newer than this table,
# so their checksum is taken from the `.md5` file GroupLens publishes beside each zip.
KNOWN_MD5 = {
    "ml-100k": "0e33842e24a9c977be4e0107933c0723",
    "ml-1m": "c4d9eecfca2ab87c1945afe126590906",
    "ml-10m": "ce571fd55effeba0271552578f2648bd",
    "ml-20m": "cd245b17a1ae2cc31bb14903e1204af3",
    "ml-25m": "6b51fb2759a8657d3bfcbfc42b592ada",
}


def ensure_movielens_zip(release: str, raw_dir: str | Path, timeout_s: float = 60.0) -> Path:
    """The release's zip under `raw_dir`, downloaded first if it is not there yet.

    The download goes to a temporary file beside the target and is renamed into place only after its
    checksum matches, so an interrupted or corrupt download never leaves a zip that looks complete.
    """
    raw_dir = Path(raw_dir)
    target = raw_dir / f"{release}.zip"
    if target.exists():
        if release in KNOWN_MD5:  # a zip left here may be truncated or another release's
            _check_md5(target, KNOWN_MD5[release])
        return target
    url = f"{BASE_URL}/{release}.zip"
    expected = KNOWN_MD5.get(release) or _published_md5(url, timeout_s)
    write_atomically(target, lambda tmp: _download_verified(url, tmp, expected, timeout_s))
    return target


def _download_verified(url: str, path: str, expected_md5: str, timeout_s: float) -> None:
    digest = hashlib.md5()
    with open(path, "wb") as out, _open(url, timeout_s) as response:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected_md5:
        raise DataError(f"download of {url} has MD5 {digest.hexdigest()}, expected {expected_md5}; nothing was kept")


def _check_md5(path: Path, expected_md5: str) -> None:
    digest = hashlib.md5()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != expected_md5:
        raise DataError(
            f"{path} has MD5 {digest.hexdigest()}, expected {expected_md5}: it is not the official release; "
            "delete it to download it again, or point data.path at the data to use"
        )


def _published_md5(url: str, timeout_s: float) -> str:
    with _open(url + ".md5", timeout_s) as response:
        text = response.read().decode("ascii", errors="replace")
    token = next((t for t in text.split() if len(t) == 32), None)
    if token is None:
        raise DataError(f"{url}.md5 holds no MD5 sum: {text[:80]!r}")
    return token.lower()


def _open(url: str, timeout_s: float):
    try:
        return urllib.request.urlopen(url, timeout=timeout_s)
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise DataError(
            f"cannot download {url} ({err}); this machine may be offline. Download the zip "
            "elsewhere and point data.path at it (or at its unpacked folder)."
        ) from err
