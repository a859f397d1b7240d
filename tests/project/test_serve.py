"""`pinsage serve` on a trained tiny project: the API and the page over what was published, a reload when
`embed_new_items` publishes (no failed request on the way, the new items served with their titles), and a
clear refusal to start when nothing servable is published."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.project.runs import BROWSER_FLAGS, TINY, fresh_project, kedro_run, latest, params_arg

PINSAGE = Path(sys.executable).parent / "pinsage"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(project: Path, port: int, log: Path) -> subprocess.Popen:
    """The service as a user starts it, its log in a file (a pipe nobody reads would fill and block it)."""
    env = dict(os.environ, DO_NOT_TRACK="1", KEDRO_DISABLE_TELEMETRY="true", COLUMNS="200")
    with log.open("w") as sink:
        return subprocess.Popen(
            [str(PINSAGE), "serve", "--project", str(project), "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def wait_until_ready(base: str, service: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert service.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail("the service did not become ready")


def add_new_items(project: Path, count: int) -> pd.DataFrame:
    """`count` held-out items and their interactions dropped as new-item batches, titles prefixed."""
    held_out = pd.read_parquet(latest(project / "data/03_primary/held_out_items.parquet")).iloc[:count].copy()
    held_out["title"] = "Brand new " + held_out["title"].astype(str)
    events = pd.read_parquet(latest(project / "data/03_primary/held_out_interactions.parquet"))
    for folder, frame in (
        ("new_items", held_out),
        ("new_item_interactions", events[events["item_id"].isin(held_out["item_id"])]),
    ):
        (project / "data/01_raw" / folder).mkdir(parents=True, exist_ok=True)
        frame.to_csv(project / "data/01_raw" / folder / "2026-11-30.csv", index=False)
    return held_out


def test_serves_the_published_run_and_reloads_when_new_items_are_published(project, tmp_path):
    (project / "conf/local/parameters_serve.yml").write_text("serve:\n  poll_seconds: 0.5\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    service = start_service(project, port, log)
    try:
        wait_until_ready(base, service, log)
        first = httpx.get(f"{base}/version").json()
        catalogue = pd.read_parquet(latest(project / "data/03_primary/catalogue.parquet"))
        item = catalogue["item_id"].iloc[0]
        answer = httpx.get(f"{base}/items/{item}/similar", params={"k": 5}).json()
        assert answer["version"] == first["run"] and answer["item"]["title"] == catalogue["title"].iloc[0]
        assert len(answer["similar"]) == 5 and item not in [n["item_id"] for n in answer["similar"]]
        assert httpx.get(f"{base}/items/no-such-item/similar").status_code == 404

        # Clients keep asking while embed_new_items publishes; every answer is from one run or the other.
        new = add_new_items(project, 5)
        answers, stop = [], threading.Event()

        def keep_asking() -> None:
            with httpx.Client(base_url=base) as client:
                while not stop.is_set():
                    response = client.get(f"/items/{item}/similar", params={"k": 5})
                    answers.append((response.status_code, response.json().get("version")))

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            result = kedro_run(project, "--pipeline=embed_new_items", params_arg(TINY))
            assert result.returncode == 0, result.stderr[-3000:]
            deadline = time.monotonic() + 60
            while httpx.get(f"{base}/version").json()["run"] == first["run"] and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stop.set()
            asker.join()
        second = httpx.get(f"{base}/version").json()
        assert second["run"] != first["run"] and second["items"] == first["items"] + 5
        assert second["model"] == first["model"]  # the same model, with new items embedded inductively
        assert {status for status, _ in answers} == {200}
        assert {version for _, version in answers} <= {first["run"], second["run"]}
        fresh = new["item_id"].iloc[0]
        served_new = httpx.get(f"{base}/items/{fresh}/similar").json()
        assert served_new["item"]["title"].startswith("Brand new ") and len(served_new["similar"]) == 10
        assert fresh in [i["item_id"] for i in httpx.get(f"{base}/items", params={"q": "brand new"}).json()["items"]]

        browse_the_page(base, second, tmp_path)
    finally:
        service.terminate()
        service.wait(timeout=30)
    printed = " ".join(log.read_text().split())
    assert re.search(r"reloaded in [\d.]+ s: now serving run \S+ \(\d+ items\), was run", printed), printed[-3000:]


def browse_the_page(base: str, version: dict, tmp_path: Path) -> None:
    """Headless Chromium, as a person would: search a title word, follow the first result, read its neighbours."""
    browser = shutil.which("chromium")
    if browser is None:
        if os.environ.get("PINSAGE_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this part")

    def dom(url: str, name: str) -> str:
        return subprocess.run(
            [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / name}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout

    search = dom(f"{base}/?q=brand+new", "search")  # what the search form submits
    assert f"published run {version['run']}" in search
    links = re.findall(r'<a href="(/browse/[^"]+)">Brand new ([^<]*)</a>', search)
    assert len(links) == 5, search[-2000:]
    item = dom(base + links[0][0], "item")
    assert re.search(r'<h2 id="item">Brand new ', item)
    neighbours = re.findall(r'<tr><td>(\d+)</td><td><a href="/browse/[^"]+">', item)
    assert neighbours == [str(i) for i in range(1, 11)]
    screenshot = Path(os.environ.get("PINSAGE_SERVE_SCREENSHOT", tmp_path / "serve.png")).resolve()
    shot = [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'shot'}", f"--screenshot={screenshot}"]
    subprocess.run(
        [*shot, base + links[0][0]],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000


def run_serve(project: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, DO_NOT_TRACK="1", KEDRO_DISABLE_TELEMETRY="true", COLUMNS="200")
    return subprocess.run(
        [str(PINSAGE), "serve", "--project", str(project), "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_refuses_to_start_without_a_servable_publication(project, tmp_path):
    empty_project = fresh_project(tmp_path / "empty")
    empty = run_serve(empty_project)
    assert empty.returncode == 3
    pointer_file = empty_project.resolve() / "data/09_published/published.json"
    assert f"nothing is published at {pointer_file}: run `kedro run --pipeline=train`" in empty.stderr
    pointer = (project / "data/09_published/published.json").read_text()
    index_version = re.search(r'"embedding_index": "([^"]+)"', pointer).group(1)
    shutil.rmtree(project / "data/07_model_output/embedding_index.faiss" / index_version)
    broken = run_serve(project)
    assert broken.returncode == 3
    message = " ".join(broken.stderr.split())
    # The refusal names the artifact and the run, and what to do; the log (Kedro's, on stdout) has the whole error.
    assert "embedding_index of the published run" in message and "cannot be loaded" in message
    assert "--pipeline=rollback" in message
    assert "loading embedding_index of run" in broken.stdout and "embedding_index.faiss" in broken.stdout
