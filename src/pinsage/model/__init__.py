"""PinSage in plain PyTorch (projector → convolutions → embedding), minibatch blocks, layer-wise
inference and the settings saved with a model. No DGL here: this runs on any device."""
