import shutil
from pathlib import Path

import numpy as np
import torch

import pinsage
from pinsage.training import checkpoint
from pinsage.training.checkpoint import code_digest, fingerprint


def test_a_checkpoint_written_by_other_code_is_not_resumed(monkeypatch):
    """A killed scheduled run is retried after a deploy: same data and settings, new training code.

    Resuming the old code's half-trained weights and optimiser state would publish a model no single
    version of the code produced, so the fingerprint covers the code that trains as well."""
    settings, tensors = {"lr": 0.01}, {"train": torch.arange(6).reshape(3, 2)}
    before = fingerprint(settings, tensors)
    assert fingerprint(settings, tensors) == before
    monkeypatch.setattr(checkpoint, "code_digest", lambda: "another version of the package")
    assert fingerprint(settings, tensors) != before


def test_the_code_digest_follows_every_source_file_of_the_package(tmp_path):
    package = Path(pinsage.__file__).parent
    copy = tmp_path / "pinsage"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert code_digest(copy) == code_digest(package)

    edited = copy / "model" / "pinsage.py"
    edited.write_text(edited.read_text() + "\n# one more line\n")
    assert code_digest(copy) != code_digest(package)

    edited.write_text((package / "model" / "pinsage.py").read_text())
    (copy / "graph" / "sampling.py").rename(copy / "graph" / "sampling_renamed.py")
    assert code_digest(copy) != code_digest(package)


def test_the_fingerprint_reads_arrays_in_place_and_tells_their_type_and_shape_apart():
    column = np.arange(12, dtype=np.int64)
    assert fingerprint({}, {"x": column}) == fingerprint({}, {"x": torch.arange(12)})
    assert fingerprint({}, {"x": column}) != fingerprint({}, {"x": column.astype(np.int32)})
    assert fingerprint({}, {"x": column}) != fingerprint({}, {"x": column.reshape(3, 4)})
    strided = torch.arange(12).reshape(3, 4).T
    assert fingerprint({}, {"x": strided}) == fingerprint({}, {"x": strided.contiguous()})
