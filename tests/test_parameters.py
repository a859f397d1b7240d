"""Every parameter rule, in-process: a bad value is refused before any node runs, naming `section.key`."""

import pytest
import yaml

from pinsage.parameters import ParameterError, check_publish_artifacts, validate_parameters
from tests.conftest import PROJECT_ROOT


def conf_base() -> dict:
    params: dict = {}
    for file in sorted((PROJECT_ROOT / "conf" / "base").glob("parameters_*.yml")):
        params.update(yaml.safe_load(file.read_text()))
    return params


def changed(key: str, value) -> dict:
    params = conf_base()
    *sections, leaf = key.split(".")
    node = params
    for section in sections:
        node = node.setdefault(section, {})
    node[leaf] = value
    return params


def test_the_projects_own_parameters_are_valid():
    validate_parameters(conf_base())


@pytest.mark.parametrize(
    "key, value, named",
    [
        ("trainin.epochs", 1, "trainin: Extra inputs are not permitted"),
        ("training.epochs", 0, "training.epochs: Input should be greater than or equal to 1"),
        ("data.synthetic.n_pins", 1, "data.synthetic.n_pins: Input should be greater than or equal to 10"),
        ("retention.keep_runs", 0, "retention.keep_runs: Input should be greater than or equal to 1"),
        ("export.chunk_size", 0, "export.chunk_size: Input should be greater than or equal to 1"),
        ("index.kind", "annoy", "index.kind: Input should be 'auto', 'exact', 'ivf' or 'hnsw'"),
        ("hard_negatives.walks_per_query", 0, "hard_negatives.walks_per_query: Input should be greater than"),
        ("evaluation.k", 20, "publish.metric 'hits@10' is not computed with evaluation.k=20"),
        ("training.device", "cuda", "training.device: 'cuda' asked for, but this machine has no CUDA device"),
        # Accepted before, failing late or meaning nothing:
        ("publish.tolerance", float("nan"), "publish.tolerance: Input should be a finite number"),
        ("training.temperature", float("inf"), "training.temperature: Input should be a finite number"),
        ("evaluation.ease_lambdas", [-1], "evaluation.ease_lambdas must be finite and positive"),
        ("pairs.window", 0, "pairs.window: Input should be greater than or equal to 1"),
        ("split.val_fraction", 0.95, "split.val_fraction + split.test_fraction must leave interactions"),
    ],
)
def test_a_bad_parameter_is_refused_naming_it(key, value, named):
    with pytest.raises(ParameterError) as refused:
        validate_parameters(changed(key, value))
    assert named in " ".join(str(refused.value).split())


def test_publish_artifacts_must_be_datasets_and_hold_what_the_gate_reads():
    publish = validate_parameters(conf_base()).publish
    datasets = set(publish.artifacts)
    check_publish_artifacts(publish, datasets)
    with pytest.raises(ParameterError, match=r"publish.artifacts: \['nowhere'\] are not datasets of the catalog"):
        check_publish_artifacts(publish.model_copy(update={"artifacts": [*publish.artifacts, "nowhere"]}), datasets)
    with pytest.raises(ParameterError, match=r"must include \['metrics'\]"):
        check_publish_artifacts(publish.model_copy(update={"artifacts": publish.artifacts[:-1]}), datasets)
