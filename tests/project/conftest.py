"""The trained tiny project the project tests share, and each test's own copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.project.runs import TINY, fresh_project, kedro_run, params_arg


def pytest_collection_modifyitems(items) -> None:
    """Every test that runs the project (its fixtures train one) is in the `project` tier."""
    for item in items:
        if {"project", "trained_project"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.project)


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory) -> Path:
    """A project that has run the tiny `train` pipeline once and published it. Tests only read it."""
    root = fresh_project(tmp_path_factory.mktemp("trained"))
    result = kedro_run(root, "--pipeline=train", params_arg(TINY))
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.fixture
def project(trained_project, tmp_path) -> Path:
    """This test's own copy of the trained project, so tests never see each other's runs."""
    return Path(shutil.copytree(trained_project, tmp_path / "project", symlinks=True))
