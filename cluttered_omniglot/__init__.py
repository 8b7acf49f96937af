"""Cluttered Omniglot, the one-shot segmentation benchmark, as a TensorFlow Datasets builder."""
