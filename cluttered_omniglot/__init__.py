"""Cluttered Omniglot, the one-shot segmentation benchmark, as a TensorFlow Datasets builder.

Importing this package registers the dataset `cluttered_omniglot` with TFDS.
"""

from cluttered_omniglot.cluttered_omniglot_dataset_builder import ClutteredOmniglot
from cluttered_omniglot.cluttered_omniglot_dataset_builder import ClutteredOmniglotConfig

__all__ = ["ClutteredOmniglot", "ClutteredOmniglotConfig"]
