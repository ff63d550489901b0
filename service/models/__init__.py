"""The models one gateway serves: the registry by name, each model's managed engine (loads, version swaps,
unloads), and the watch for new versions on disk."""
