"""Training on pre-sampled epochs: plain PyTorch, no DGL, so it runs on any device.

`loop.train_loop` is the loop; `pinsage.jobs.train.fit` assembles it with the graph's sampler.
"""
