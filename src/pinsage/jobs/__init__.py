"""One entry point per job, assembled from the library: `train.fit`, `export.embed_catalogue`,
`evaluate.evaluate_trained_items` / `evaluate.evaluate_new_items`, `new_items.embed_new_items`.

The Kedro nodes, the torchrun launcher, the benchmarks and the tests all call these, so there is one
way to train, export, evaluate and embed new items.
"""
