import os
import stat
from pathlib import Path

import pytest

from pinsage.atomic import write_atomically, write_folder_atomically


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_atomic_file_gets_the_mode_an_ordinary_write_would(tmp_path, umask_022):
    """A published pointer, index or weights file kept mkstemp's 0600: a service running as another user
    could not read it."""
    write_atomically(tmp_path / "published.json", lambda tmp: Path(tmp).write_text("{}"))
    assert mode(tmp_path / "published.json") == 0o644


def test_an_atomic_folder_gets_the_mode_an_ordinary_mkdir_would(tmp_path, umask_022):
    write_folder_atomically(tmp_path / "index", lambda tmp: (tmp / "part").write_text("x"))
    assert mode(tmp_path / "index") == 0o755 and mode(tmp_path / "index" / "part") == 0o644


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "f"
    target.write_text("old")

    def fail(tmp):
        Path(tmp).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, fail)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f"]
