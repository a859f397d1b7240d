"""The user–item graph and everything sampled from it: the only package that uses DGL.

`epoch.EpochSample` is what leaves it: plain tensors, so training can run where DGL cannot be loaded.
This file imports nothing, so `pinsage.graph.epoch` can be imported without DGL.
"""
