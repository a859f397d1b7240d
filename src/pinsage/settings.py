"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # `kedro run --params="data.source=ml-100k"` and conf/local overrides change only the keys they
    # name; a destructive merge would drop the sibling keys of `data`.
    "merge_strategy": {"parameters": "soft"},
}

from pinsage.hooks import PublishAndRetain, ValidateParameters  # noqa: E402

HOOKS = (ValidateParameters(), PublishAndRetain())
