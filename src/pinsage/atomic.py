"""Writing a file or a folder so that readers see the old version or the new one, never half of one.

The result has the mode an ordinary write would give it (0666 or 0777 less the umask): the temporary
file or folder is made private (0600 / 0700) by `tempfile`, and a published file kept so could not be read
by a service running as another user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

_UMASK_LOCK = threading.Lock()


def ordinary_mode(path: str | Path) -> None:
    """Give `path` the permissions `open` or `mkdir` would have: 0666 (a folder 0777) less the umask."""
    with _UMASK_LOCK:  # the umask can only be read by setting it
        umask = os.umask(0o022)
        os.umask(umask)
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~umask)


def write_atomically(path: str | Path, write: Callable[[str], None]) -> None:
    """Call `write(temporary_path)`, then rename the result onto `path`.

    The temporary file sits in the target's folder (a rename across file systems is not atomic) and is
    removed if `write` fails, with the folder if this call created it, so a crash or a kill leaves the
    previous file in place and no empty version folder.
    """
    path = Path(path)
    created = _make_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        ordinary_mode(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
            _remove_if_created(created)


def write_folder_atomically(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(temporary_folder)`, then rename the folder onto `path` (which must not exist yet).

    The same guarantee as `write_atomically` for an artifact made of several files: a reader sees the
    whole folder or none of it; a failed `write` removes its temporary folder.
    """
    path = Path(path)
    created = _make_parent(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        write(tmp)
        ordinary_mode(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
            _remove_if_created(created)


def _make_parent(path: Path) -> Path | None:
    """Create `path`'s folder if needed (a new version folder, usually); the folder if this call made it."""
    try:
        path.parent.mkdir(parents=True)
    except FileExistsError:
        return None
    return path.parent


def _remove_if_created(folder: Path | None) -> None:
    if folder is not None:
        # Something else written there meanwhile keeps the folder (rmdir fails on a non-empty one).
        with contextlib.suppress(OSError):
            folder.rmdir()
