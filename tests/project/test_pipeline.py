"""The Kedro wiring: a slice through SequentialRunner, and the real `kedro run` on tiny data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.framework.project import configure_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from pinsage.graph.build import USER_TO_ITEM, edges_by_id
from pinsage.parameters import validate_parameters
from pinsage.pipeline_registry import register_pipelines
from pinsage.serving.embeddings import embedding_matrix
from tests.conftest import PROJECT_ROOT
from tests.project.runs import BROWSER_FLAGS, TINY, kedro_run, latest, params_arg


class KeptDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so the test can look at intermediate results."""

    def _release(self) -> None:
        pass


def test_ingest_to_graph_slice_with_sequential_runner():
    import yaml

    configure_project("pinsage")
    pipelines = register_pipelines()
    params = {}
    for name in ("ingest", "split", "features", "graph"):
        params.update(yaml.safe_load((PROJECT_ROOT / f"conf/base/parameters_{name}.yml").read_text()))
    params["data"]["synthetic"].update(n_pins=200, n_boards=100, n_topics=5)
    batch = pd.DataFrame({"user_id": ["new-board", "board0"], "item_id": ["pin1", "pin1"], "timestamp": [9, 10]})
    validated = validate_parameters(params | {"publish": {"artifacts": []}})
    catalog = DataCatalog(
        {f"params:{k}": MemoryDataset(getattr(validated, k)) for k in params}
        | {"interaction_batches": MemoryDataset({"batches/day1.csv": lambda: batch})}
        | {
            name: KeptDataset()
            for name in (
                "training_graph",
                "val_interactions",
                "test_interactions",
                "users",
                "catalogue",
                "catalogue_item_ids",
            )
        }
    )
    pipeline = pipelines["ingest"] + pipelines["split"] + pipelines["features"] + pipelines["graph"]
    SequentialRunner().run(pipeline, catalog)
    graph = catalog.load("training_graph")
    users, items = edges_by_id(graph, USER_TO_ITEM)
    edges = set(zip(users.tolist(), items.tolist(), strict=True))
    for held_out in ("val_interactions", "test_interactions"):
        frame = catalog.load(held_out)
        assert len(frame) and not edges & set(zip(frame["user"], frame["item"], strict=True))
    neighbourhoods = catalog.load("item_neighbourhoods")
    assert graph.num_nodes("item") == len(catalog.load("catalogue")) == 180  # 10% held out
    # What training reads of the catalogue: its ids alone, in its row order.
    assert catalog.load("catalogue_item_ids")["item_id"].tolist() == catalog.load("catalogue")["item_id"].tolist()
    assert list(catalog.load("catalogue_item_ids").columns) == ["item_id"]
    assert neighbourhoods["neighbours"].shape == (180, params["neighbourhood"]["num_neighbors"])
    assert catalog.load("users")["user_id"].iloc[-1] == "new-board"  # a batch's new user


def outputs(project: Path) -> dict[Path, int]:
    """Every file under data/ and when it was last written; the run lock is bookkeeping, not an output."""
    return {p: p.stat().st_mtime_ns for p in (project / "data").rglob("*") if p.name != ".run.lock"}


def test_kedro_run_train_end_to_end(trained_project):
    project = trained_project
    metrics = json.loads(latest(project / "data/08_reporting/metrics.json").read_text())
    assert set(metrics) == {"pinsage", "popularity", "itemknn", "next_items", "ease"}
    for method in metrics.values():
        assert set(method) == {"val", "test"}
        assert {"hits@10", "ndcg@10", "mrr", "interval", "by_degree"} <= set(method["test"])
    assert set(metrics["pinsage"]["test"]["difference"]) == {"popularity", "itemknn", "next_items", "ease"}
    # Every baseline but popularity had its setting and its prior chosen on validation.
    assert {"l2", "prior"} <= set(metrics["ease"]["val"]["chosen"])
    assert {"window", "prior"} <= set(metrics["next_items"]["val"]["chosen"])
    report = latest(project / "data/08_reporting/recall_report.md").read_text()
    assert "| PinSage |" in report and "Item-kNN" in report and "| EASE |" in report
    assert "| Next-items co-occurrence |" in report and "Chosen on validation: " in report
    assert "have the same timestamp as their query" in report
    assert report.index("## Trained items") < report.index("test HITS@10 [interval]") < report.index("val HITS@10")
    assert latest(project / "data/08_reporting/recall_by_degree.png").stat().st_size > 10_000
    embeddings = latest(project / "data/07_model_output/item_embeddings.parquet")
    assert (embeddings / "part-00000.parquet").is_file()  # a folder of parts
    table = pd.read_parquet(embeddings)
    assert len(table) == 270 and set(table.columns) == {"item", "item_id", "embedding", "prior"}  # 10% held out
    assert "## New items (inductive)" in report and "| Features-only cosine |" in report
    inductive = json.loads(latest(project / "data/08_reporting/new_item_metrics.json").read_text())
    assert (
        inductive["snapshots"]
        and inductive["items"] == 30
        and set(inductive["methods"])
        == {
            "pinsage",
            "pinsage_own",
            "pinsage_cold",
            "popularity",
            "itemknn",
            "next_items",
            "features",
        }
    )
    # The headline is the later groups'; the earlier ones chose the baselines' settings and are shown apart.
    assert set(inductive["choosing"]) == set(inductive["methods"]) and {"itemknn", "next_items"} <= set(
        inductive["chosen"]
    )
    choosing = [s["choosing"] for s in inductive["snapshots"]]
    assert choosing == sorted(choosing, reverse=True) and any(choosing) and not all(choosing)
    assert "### New items: the earlier groups (what chose the settings)" in report
    assert (project / "data/07_model_output/embedding_index.faiss").is_dir()
    agreement = json.loads(latest(project / "data/08_reporting/index_recall.json").read_text())
    assert agreement["index"] == "IndexFlatIP" and agreement["recall@10"] > 0.95 and agreement["items"] == 270
    assert "Served index: IndexFlatIP over 270 items" in report
    pointer = json.loads((project / "data/09_published/published.json").read_text())
    trained_with = json.loads(
        (
            project / "data/06_models/trained_with.json" / pointer["artifacts"]["trained_with"] / "trained_with.json"
        ).read_text()
    )
    assert trained_with["model"]["hidden_dim"] == 64 and trained_with["feature_sizes"]["n_items"] == 270


def test_export_on_a_dask_cluster_writes_the_local_embeddings_as_parts(project):
    """`export.engine=dask` through Kedro: a LocalCluster's workers write one part per partition, saving
    moves them into the new version, and the embeddings are the local engine's."""
    folder = project / "data/07_model_output/item_embeddings.parquet"
    local = pd.read_parquet(latest(folder))
    result = kedro_run(project, "--pipeline=export", "--params=export.engine=dask,export.chunk_size=100")
    assert result.returncode == 0, result.stderr[-3000:]
    parts = latest(folder)
    assert sorted(p.name for p in parts.iterdir()) == [f"part-0000{i}.parquet" for i in range(3)]  # 270 items
    assert not list((project / "data/07_model_output/staging").iterdir())
    assert np.allclose(embedding_matrix(pd.read_parquet(parts)), embedding_matrix(local), atol=1e-5)


def test_promotion_gate_publishes_or_refuses_with_exit_code_3(project):
    pointer = project / "data/09_published/published.json"
    first = json.loads(pointer.read_text())  # the trained project's run published itself
    assert first["metric"] == "hits@10"
    assert (project / "data/08_reporting/metrics.json" / first["version"]).is_dir()
    refused = kedro_run(project, "--pipeline=evaluate", "--params=publish.tolerance=-1.0")
    assert refused.returncode == 3
    assert "the published version stays" in " ".join((refused.stdout + refused.stderr).split())
    assert json.loads(pointer.read_text()) == first
    accepted = kedro_run(project, "--pipeline=evaluate")
    assert accepted.returncode == 0, accepted.stderr[-3000:]
    assert json.loads(pointer.read_text())["version"] > first["version"]


def test_model_pipeline_trains_data_parallel_with_torchrun(project):
    weights = project / "data/06_models/pinsage_state_dict.pt"
    before = set(weights.iterdir())
    result = kedro_run(
        project,
        "--pipeline=model",
        params_arg({**TINY, "training.processes": 2, "training.checkpoint_path": "null"}),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(set(weights.iterdir()) - before) == 1
    history = json.loads(latest(project / "data/06_models/training_history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]


def test_notebook_runs_on_the_published_run(trained_project, monkeypatch, tmp_path):
    """Run from a folder outside the project, as Jupyter runs it from notebooks/."""
    project = trained_project
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PINSAGE_PROJECT", str(project))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the inline backend draws into the notebook
    notebook = nbformat.read(PROJECT_ROOT / "notebooks/explore_embeddings.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = "".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "published run" in printed and "270 items" in printed
    assert printed.count("    0.") + printed.count("    1.") >= 50  # ten neighbours for each of five items
    images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 1  # the map was drawn


# Opens the app with a light theme, no feature tour and no sidebar, then shows the `train` pipeline.
PRIME_PAGE = """<script>
localStorage.setItem("KedroViz", JSON.stringify({theme: "light", showFeatureHints: false,
  visible: {sidebar: false, miniMap: false, code: false}}));
location.replace("/?pid=train");
</script>"""


def test_kedro_viz_build_draws_the_train_pipeline_with_previews(project, tmp_path):
    env = dict(os.environ, DO_NOT_TRACK="1", KEDRO_DISABLE_TELEMETRY="true")
    built = subprocess.run(
        [sys.executable, "-m", "kedro", "viz", "build", "--include-previews"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0 and "Success" in built.stdout + built.stderr, built.stderr[-3000:]
    site = project / "build"
    nodes = [json.loads(p.read_text()) for p in (site / "api/nodes").iterdir()]
    previews = {Path(n["filepath"]).name: n for n in nodes if n.get("preview")}
    assert "hits@10" in json.dumps(previews["metrics.json"]["preview"])
    assert previews["training_curve.png"]["preview_type"] == "ImagePreview"
    assert previews["recall_by_degree.png"]["preview_type"] == "ImagePreview"
    assert "recall_report.md" in previews or "new_item_metrics.json" in previews

    browser = shutil.which("chromium")
    if browser is None:
        if os.environ.get("PINSAGE_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this part")
    (site / "prime.html").write_text(PRIME_PAGE)
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/prime.html"
    screenshot = Path(os.environ.get("PINSAGE_LINEAGE_SCREENSHOT", tmp_path / "train.png")).resolve()
    try:
        dom = subprocess.run(
            [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'dom'}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=180,
        ).stdout
        subprocess.run(
            [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'shot'}", f"--screenshot={screenshot}", url],
            capture_output=True,
            timeout=180,
            check=True,
        )
    finally:
        server.shutdown()
    import re

    drawn = set(re.findall(r'<text class="pipeline-node__text[^>]*>([^<]*)', dom))
    configure_project("pinsage")
    train = register_pipelines()["train"]
    assert {n.name for n in train.nodes} <= drawn, sorted(drawn)
    assert {"model_weights", "item_embeddings", "metrics", "recall_report"} <= drawn
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000


def test_warm_start_from_the_published_model_or_says_why_not(project):
    published = json.loads((project / "data/09_published/published.json").read_text())
    warm = kedro_run(project, "--pipeline=model", params_arg({**TINY, "training.warm_start": "true"}))
    assert warm.returncode == 0, warm.stderr[-3000:]
    log = " ".join((warm.stdout + warm.stderr).split())
    version = published["artifacts"]["model_weights"]
    assert f"warm start from published model {version}: carried over 270/270 items" in log
    wider = kedro_run(
        project, "--pipeline=model", params_arg({**TINY, "training.warm_start": "true", "model.hidden_dim": 8})
    )
    assert wider.returncode == 0, wider.stderr[-3000:]
    assert "(hidden size or feature widths changed): training from scratch" in " ".join(
        (wider.stdout + wider.stderr).split()
    )


def test_runtime_params_merge_softly(trained_project):
    project = trained_project
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params={"data": {"synthetic": {"n_pins": 70}}}) as s:
        params = s.load_context().params
    data = params["data"]  # a validated DataConfig: Kedro instantiates the type the ingest node declares
    assert data.synthetic.n_pins == 70 and data.synthetic.n_boards == 1500 and data.source == "synthetic"


def test_relative_path_parameters_are_the_projects_wherever_the_session_starts(trained_project, tmp_path, monkeypatch):
    """A session started from another folder (a notebook in notebooks/, a script, a scheduler's worker) used
    to take its run lock and write its checkpoint under that folder, where runs in the project never saw them."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from pinsage.parameters import PROJECT_PATHS, Parameters

    elsewhere = tmp_path / "notebooks"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    bootstrap_project(trained_project)
    absolute = str(tmp_path / "raw")
    with KedroSession.create(
        project_path=trained_project, runtime_params={"data": {"path": "incoming", "raw_dir": absolute}}
    ) as session:
        catalog = session.load_context().catalog
        paths = {(s, n): getattr(catalog.load(f"params:{s}"), n) for s, n in PROJECT_PATHS}
        # The catalog's publication pointer too (a dataset argument Kedro anchors only by the name `filepath`).
        assert catalog.load("published_run") is not None
    root = trained_project.resolve()
    assert paths[("runs", "lock")] == str(root / "data/.run.lock")
    assert paths[("training", "checkpoint_path")] == str(root / "data/06_models/training_checkpoint.pt")
    assert paths[("data", "path")] == str(root / "incoming")
    assert paths[("data", "raw_dir")] == absolute  # absolute paths are kept
    assert all(Path(p).is_absolute() for p in paths.values())
    # Every path parameter with a project default is in the list.
    defaults = Parameters.model_validate({"publish": {"artifacts": []}})
    named = {
        (section, name)
        for section in Parameters.model_fields
        for name, value in getattr(defaults, section).model_dump().items()
        if isinstance(value, str) and value.startswith("data/")
    }
    assert named <= set(PROJECT_PATHS)


def test_bad_input_fails_clearly_and_leaves_earlier_outputs_alone(project, tmp_path):
    before = outputs(project)
    assert before
    bad = tmp_path / "pins"
    bad.mkdir()
    (bad / "pins.csv").write_text("pin_id\np1\n")
    (bad / "saves.csv").write_text("board_id,pin_id,timestamp\nb1,p1,1\nb1,p2,2\n")
    result = kedro_run(project, "--pipeline=train", params_arg({"data.source": "pins", "data.path": bad}))
    assert result.returncode != 0
    assert "saves.csv, line 3: item 'p2' is not in the item table" in " ".join(result.stderr.split())
    after = outputs(project)
    assert after == before


def test_embed_new_items_adds_them_under_a_new_version_without_retraining(project):
    import pandas as pd

    held_out = pd.read_parquet(latest(project / "data/03_primary/held_out_items.parquet"))
    events = pd.read_parquet(latest(project / "data/03_primary/held_out_interactions.parquet"))
    for folder, frame in (("new_items", held_out.iloc[:10]), ("new_item_interactions", events)):
        (project / "data/01_raw" / folder).mkdir(parents=True, exist_ok=True)
        frame.to_csv(project / "data/01_raw" / folder / "2026-11-28.csv", index=False)
    mine = events["item_id"].isin(held_out["item_id"].iloc[:10])
    events[mine].to_csv(project / "data/01_raw/new_item_interactions/2026-11-28.csv", index=False)
    published = json.loads((project / "data/09_published/published.json").read_text())
    artifacts = published["artifacts"]
    weights = project / "data/06_models/pinsage_state_dict.pt" / artifacts["model_weights"] / "pinsage_state_dict.pt"
    before = pd.read_parquet(
        project
        / "data/07_model_output/item_embeddings.parquet"
        / artifacts["item_embeddings"]
        / "item_embeddings.parquet"
    )
    # The served score's popularity term: β · ln(1 + training interactions), the default β.
    train = pd.read_parquet(latest(project / "data/03_primary/train_interactions.parquet"))
    degree = np.bincount(train["item"], minlength=len(before))[before["item"]]
    np.testing.assert_allclose(before["prior"], 0.0025 * np.log1p(degree), rtol=1e-6)
    models_before = sorted((project / "data/06_models/pinsage_state_dict.pt").iterdir())
    result = kedro_run(project, "--pipeline=embed_new_items", params_arg(TINY))
    assert result.returncode == 0, result.stderr[-3000:]
    after = pd.read_parquet(latest(project / "data/07_model_output/item_embeddings.parquet"))
    assert len(after) == len(before) + 10
    assert after["item_id"].tolist() == before["item_id"].tolist() + held_out["item_id"].iloc[:10].tolist()
    # The trained items are served exactly as they were evaluated and published: only new items are computed.
    assert np.array_equal(np.stack(after["embedding"][: len(before)]), np.stack(before["embedding"]))
    # A new item's prior is from the interactions attached to it, as the evaluation scored it.
    attached = events[mine].groupby("item_id").size().reindex(held_out["item_id"].iloc[:10], fill_value=0)
    np.testing.assert_allclose(after["prior"][: len(before)], before["prior"])
    np.testing.assert_allclose(after["prior"][len(before) :], 0.0025 * np.log1p(attached.to_numpy()), rtol=1e-6)
    assert sorted((project / "data/06_models/pinsage_state_dict.pt").iterdir()) == models_before  # no training
    now = json.loads((project / "data/09_published/published.json").read_text())
    assert now["artifacts"]["model_weights"] == artifacts["model_weights"]
    assert now["artifacts"]["item_embeddings"] == now["artifacts"]["embedding_index"] == now["version"]
    assert now["version"] > published["version"] and now["value"] == published["value"]
    assert weights.exists()
    index = sorted((project / "data/07_model_output/embedding_index.faiss").iterdir())[-1]
    import faiss

    served = faiss.read_index(str(index / "embedding_index.faiss"))
    assert served.ntotal == len(after) and served.d == len(after["embedding"].iloc[0]) + 1  # the prior's coordinate


def test_retention_keeps_the_newest_runs_and_the_published_one(project):
    versions = lambda: {v.name for v in (project / "data").glob("0*/*/*") if v.is_dir()}  # noqa: E731
    assert kedro_run(project, "--pipeline=evaluate").returncode == 0  # a second run
    assert len(versions()) >= 2
    refused = kedro_run(
        project, "--pipeline=train", params_arg({**TINY, "retention.keep_runs": 1, "publish.tolerance": -1.0})
    )
    assert refused.returncode == 3  # not published, and still cleaned up
    pointer = json.loads((project / "data/09_published/published.json").read_text())
    published = {pointer["version"], *pointer["artifacts"].values()}
    newest = sorted((project / "data/06_models/pinsage_state_dict.pt").iterdir())[-1].name
    assert versions() == published | {newest} and newest not in published
    # The published run's artifacts still load: new items are embedded with its model.
    again = kedro_run(project, "--pipeline=embed_new_items", "--params=retention.keep_runs=1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert not list((project / "data/.trash").iterdir())


@pytest.mark.parametrize(
    "params, named",
    [
        # Each rule is tested in-process (tests/test_parameters.py); these two are what `kedro run` does with one.
        ("--params=trainin.epochs=1", "trainin: Extra inputs are not permitted"),
        ("conf/local/parameters_publish.yml", "publish.artifacts: ['no_such_dataset'] are not datasets"),
    ],
)
def test_bad_parameters_fail_before_any_node_runs(project, params, named):
    if params.endswith(".yml"):  # a list cannot be given with --params: the user's own configuration file
        publish = yaml.safe_load((project / "conf/base/parameters_publish.yml").read_text())["publish"]
        publish["artifacts"].append("no_such_dataset")
        (project / params).write_text(yaml.safe_dump({"publish": publish}))
        params = "--params=training.epochs=1"
    before = outputs(project)
    result = kedro_run(project, "--pipeline=train", params)
    assert result.returncode != 0
    assert named in " ".join(result.stderr.split()), result.stderr[-2000:]
    assert "Running node" not in result.stdout + result.stderr
    assert outputs(project) == before


def test_new_items_are_embedded_with_the_published_settings_when_todays_differ(project):
    held_out = pd.read_parquet(latest(project / "data/03_primary/held_out_items.parquet"))
    (project / "data/01_raw/new_items").mkdir(parents=True, exist_ok=True)
    held_out.iloc[:5].to_csv(project / "data/01_raw/new_items/batch.csv", index=False)
    result = kedro_run(
        project,
        "--pipeline=embed_new_items",
        "--params=model.hidden_dim=8,neighbourhood.num_neighbors=3,taste.weight=0,scoring.popularity_prior=0",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = " ".join((result.stdout + result.stderr).split())
    assert "today's parameters differ from those the published model" in log
    assert "model.hidden_dim: trained 64, today 8" in log and "neighbourhood.num_neighbors: trained 10, today 3" in log
    assert "taste.weight: trained 4.0, today 0.0" in log
    assert "scoring.popularity_prior: trained 0.0025, today 0.0" in log
    table = pd.read_parquet(latest(project / "data/07_model_output/item_embeddings.parquet"))
    assert len(table) == 275 and len(table["embedding"].iloc[-1]) == 64
    assert (table["prior"].iloc[:270] > 0).any()  # the published β, not today's 0


def test_torchrun_command_line_trains_on_the_catalog_in_the_named_environment(project):
    """`--env` is honoured: the environment's parameters (one epoch here) are the ones trained with."""
    (project / "conf/short").mkdir()
    (project / "conf/short/parameters.yml").write_text(
        "training:\n  epochs: 1\n  batches_per_epoch: 3\n  batch_size: 64\n  num_negatives: 50\n"
        "  checkpoint_path: null\n"
    )
    history = project / "data/06_models/training_history.json"
    before = set(history.iterdir())
    env = dict(os.environ, DO_NOT_TRACK="1", KEDRO_DISABLE_TELEMETRY="true", TQDM_DISABLE="1")
    result = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1",
            "-m", "pinsage.pipelines.model.torchrun", "--project-path", str(project), "--env", "short",
        ],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (new,) = set(history.iterdir()) - before
    assert [h["epoch"] for h in json.loads((new / "training_history.json").read_text())] == [1]
    assert (project / "data/06_models/trained_with.json" / new.name / "trained_with.json").exists()


def test_the_gate_refuses_a_metric_measured_on_too_few_users(project):
    """A dataset with one validation user scored HITS@10 = 1.0 and was published, blocking later runs."""
    pointer = (project / "data/09_published/published.json").read_text()
    result = kedro_run(project, "--pipeline=evaluate", "--params=publish.min_users=100000")
    assert result.returncode == 3
    assert "fewer than publish.min_users = 100000" in " ".join((result.stdout + result.stderr).split())
    assert (project / "data/09_published/published.json").read_text() == pointer


def test_the_gate_refuses_an_index_built_from_other_embeddings(project):
    """After a kill between embed_catalogue_items and build_faiss_index, an evaluation-only run published one
    run's embeddings with another run's index."""
    import faiss

    pointer = (project / "data/09_published/published.json").read_text()
    stray = project / "data/07_model_output/embedding_index.faiss/9999-01-01T00.00.00.000Z/embedding_index.faiss"
    stray.parent.mkdir()
    vectors = np.random.default_rng(0).normal(size=(270, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(65)  # the shape of the run's own: embeddings and a prior
    index.add(np.hstack([vectors, np.full((270, 1), 0.01, dtype=np.float32)]))
    faiss.write_index(index, str(stray))
    result = kedro_run(project, "--pipeline=evaluate")
    assert result.returncode == 3
    assert "do not find themselves first in the index" in " ".join((result.stdout + result.stderr).split())
    assert (project / "data/09_published/published.json").read_text() == pointer


def test_the_gate_compares_only_runs_of_the_same_dataset(project):
    """A run on another dataset was compared with the published run of a different one and refused."""
    other_world = params_arg({**TINY, "publish.tolerance": -1.0, "data.synthetic.seed": 5})
    result = kedro_run(project, "--pipeline=train", other_world)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no published run of this dataset" in " ".join((result.stdout + result.stderr).split())
    pointer = json.loads((project / "data/09_published/published.json").read_text())
    assert pointer["dataset"]["source"] == "synthetic" and "world" in pointer["dataset"]


def test_a_partial_run_that_did_not_evaluate_publishes_nothing(project):
    """`--to-nodes=build_faiss_index` was published without any evaluation, inheriting the earlier metric.
    Then a model trained alone (another shape) and an evaluation of the newest embeddings: the evaluation
    scored one run's embeddings beside another run's model, and that model was published, never evaluated."""
    pointer = (project / "data/09_published/published.json").read_text()
    result = kedro_run(project, "--pipeline=train", "--to-nodes=build_faiss_index", params_arg(TINY))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "did not evaluate: nothing is published" in " ".join((result.stdout + result.stderr).split())
    assert (project / "data/09_published/published.json").read_text() == pointer
    other_model = params_arg({**TINY, "model.hidden_dim": 16})
    assert kedro_run(project, "--pipeline=train", "--to-nodes=train_pinsage", other_model).returncode == 0
    mixed = kedro_run(project, "--pipeline=evaluate", params_arg(TINY))
    assert mixed.returncode == 3, mixed.stderr[-3000:]
    log = " ".join((mixed.stdout + mixed.stderr).split())
    assert "item_embeddings of run" in log and "was made with model_weights of run" in log
    assert (project / "data/09_published/published.json").read_text() == pointer


def test_rollback_puts_the_previous_publication_back_and_retention_kept_it(project):
    first = json.loads((project / "data/09_published/published.json").read_text())
    assert kedro_run(project, "--pipeline=evaluate").returncode == 0  # a second publication
    second = json.loads((project / "data/09_published/published.json").read_text())
    assert second["version"] > first["version"] and second["previous"][0]["version"] == first["version"]
    rolled = kedro_run(project, "--pipeline=rollback", "--params=retention.keep_runs=1")
    assert rolled.returncode == 0, rolled.stderr[-3000:]
    log = " ".join((rolled.stdout + rolled.stderr).split())
    assert f"rolled back from run {second['version']} to run {first['version']}" in log
    now = json.loads((project / "data/09_published/published.json").read_text())
    assert now["version"] == first["version"] and now["artifacts"] == first["artifacts"]
    # Retention (keep_runs=1) kept the restored run's artifacts: its model still embeds new items.
    again = kedro_run(project, "--pipeline=embed_new_items")
    assert again.returncode == 0, again.stderr[-3000:]
    # The publication it replaced is kept, withdrawn: its artifacts survive retention.
    assert [
        w["version"] for w in json.loads((project / "data/09_published/published.json").read_text())["withdrawn"]
    ] == [second["version"]]


def test_a_rollback_to_a_set_that_no_longer_loads_is_refused(project):
    """With the previous publication's embeddings deleted by hand, rollback said "rolled back", the pointer
    named a set the service could not load, and the good publication it replaced was dropped."""
    first = json.loads((project / "data/09_published/published.json").read_text())
    assert kedro_run(project, "--pipeline=evaluate").returncode == 0
    pointer = (project / "data/09_published/published.json").read_text()
    shutil.rmtree(project / "data/07_model_output/item_embeddings.parquet" / first["artifacts"]["item_embeddings"])
    refused = kedro_run(project, "--pipeline=rollback")
    assert refused.returncode != 0
    log = " ".join((refused.stdout + refused.stderr).split())
    assert f"not rolled back to run {first['version']}: item_embeddings of run" in log and "does not load" in log
    assert (project / "data/09_published/published.json").read_text() == pointer


def test_a_second_run_in_the_same_project_fails_at_once_while_one_is_running(project):
    """Two overlapping runs used to read each other's newest outputs and publish a mixed set (both exit 0)."""
    env = dict(os.environ, DO_NOT_TRACK="1", KEDRO_DISABLE_TELEMETRY="true", TQDM_DISABLE="1", COLUMNS="400")
    first = subprocess.Popen(
        [sys.executable, "-m", "kedro", "run", "--pipeline=train", params_arg(TINY)],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lock = project / "data/.run.lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and "pid" in lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    second = kedro_run(project, "--pipeline=evaluate")
    output, _ = first.communicate(timeout=600)
    assert first.returncode == 0, output[-3000:]
    assert second.returncode == 4
    message = " ".join((second.stdout + second.stderr).split())
    assert f"another run (pid {first.pid}" in message and f"holds {lock.resolve()}" in message
    assert "Running node" not in message
