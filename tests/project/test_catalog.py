"""Every dataset is declared with a kedro-viz layer and a description, and every node's data is declared."""

from __future__ import annotations

import yaml
from kedro.framework.project import configure_project

from pinsage.pipeline_registry import register_pipelines
from tests.conftest import PROJECT_ROOT

LAYERS = {"raw", "intermediate", "primary", "feature", "model_input", "models", "model_output", "reporting"}


def test_every_dataset_has_a_layer_and_a_description():
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    for name, entry in catalog.items():
        metadata = entry.get("metadata", {})
        assert metadata.get("kedro-viz", {}).get("layer") in LAYERS, name
        assert len(metadata.get("description", "")) > 20, name


def test_every_node_input_and_output_is_in_the_catalog():
    catalog = set(yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text()))
    configure_project("pinsage")
    for name, pipeline in register_pipelines().items():
        datasets = {d for d in pipeline.datasets() if not d.startswith("params:")}
        assert datasets <= catalog, (name, sorted(datasets - catalog))
