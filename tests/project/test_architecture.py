"""The layout is the architecture: dependencies point one way, DGL stays in `graph`, Kedro in the glue."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pinsage

PACKAGE = Path(pinsage.__file__).parent
# The order data flows in; a module may import from its own package or from one earlier in this list.
# `evaluation` and `serving` are siblings: both follow training, neither imports the other; so are `training`
# and `inductive` (new items embedded with a trained model).
LAYERS = {
    "atomic": 0,
    "seeding": 0,
    "data": 1,
    "graph": 2,
    "model": 3,
    "training": 4,
    "inductive": 4,
    "evaluation": 5,
    "serving": 5,
    "lifecycle": 6,
    "jobs": 7,
    "parameters": 8,
}
KEDRO_GLUE = {"pipelines", "hooks", "settings", "catalog_datasets", "pipeline_registry", "__main__", "cli", "tracking"}
DGL_FREE_PACKAGES = ("data", "model", "training", "evaluation", "lifecycle")


def modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }


def part_of(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_dependencies_point_one_way():
    backwards = []
    for module, path in modules().items():
        layer = part_of(module)
        if layer not in LAYERS:
            continue
        for target in imports(path):
            other = part_of(target) if target.startswith("pinsage.") else None
            if other is None or other == layer:
                continue
            if other not in LAYERS or LAYERS[other] >= LAYERS[layer]:
                backwards.append(f"{module} imports {target}")
    assert not backwards, backwards


def test_only_the_glue_imports_kedro():
    offenders = [
        module
        for module, path in modules().items()
        if part_of(module) not in KEDRO_GLUE and any(t.split(".")[0].startswith("kedro") for t in imports(path))
    ]
    assert not offenders, offenders


def test_dgl_free_packages_import_without_dgl():
    """A GPU machine may carry a torch that DGL cannot load: data, the model, the training loop, the
    evaluation and the lifecycle must not need it, nor must the epoch sample that ships to it."""
    wanted = [m for m in modules() if part_of(m) in DGL_FREE_PACKAGES] + [
        "pinsage.graph.epoch",
        "pinsage.graph.config",
        "pinsage.graph.engagement",
    ]
    code = "import sys; sys.modules['dgl'] = None\n" + "".join(f"import {m}\n" for m in sorted(wanted)) + "print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok" and len(wanted) > 20
