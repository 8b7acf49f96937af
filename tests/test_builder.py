"""TFDS's standard builder checks of `ClutteredOmniglot`, run on the fake archives in dummy_data/.

`scripts/make_dummy_data.py` writes those archives: every official alphabet and character folder,
with synthetic drawings, so the builder accepts them and the tests need no download. Each build
renders one 2000-example job per split at clutter 4, the smallest config the builder allows.
"""

import pathlib
from unittest import mock

from apache_beam.runners.portability.fn_api_runner import FnApiRunner
import tensorflow_datasets as tfds

import cluttered_omniglot

PACKAGE_DIR = pathlib.Path(cluttered_omniglot.__file__).parent
EXAMPLES_PER_SPLIT = 2000
SPLIT_SIZES = {
    "train": EXAMPLES_PER_SPLIT,
    "val_train_alphabets": EXAMPLES_PER_SPLIT,
    "test_train_alphabets": EXAMPLES_PER_SPLIT,
    "val_eval_alphabets": EXAMPLES_PER_SPLIT,
    "test_eval_alphabets": EXAMPLES_PER_SPLIT,
}


_TFDS_DOWNLOAD_CONFIG = tfds.download.DownloadConfig


def _download_config_with_local_runner(**kwargs):
    """Create TFDS's `DownloadConfig`, with Beam's in-process FnApiRunner unless a runner is given.

    TFDS's test case builds with no runner, so Beam 2.77 picks DirectRunner, which first tries the
    Prism runner and downloads its binary from the network before it falls back to FnApiRunner.
    """
    config = _TFDS_DOWNLOAD_CONFIG(**kwargs)
    if config.beam_runner is None:
        config.beam_runner = FnApiRunner()
    return config


class LocalRunnerMixin:
    """Make `DatasetBuilderTestCase` builds run on FnApiRunner in this process, with no network.

    A mixin rather than a subclass, because pytest would collect a `TestCase` subclass that has no
    DATASET_CLASS and fail it.
    """

    def setUp(self):
        super().setUp()
        # The base class creates the DownloadConfig inside the test and stops `self.patchers` in
        # tearDown.
        patcher = mock.patch(
            "tensorflow_datasets.core.download.DownloadConfig", _download_config_with_local_runner
        )
        patcher.start()
        self.patchers.append(patcher)


def small_config():
    return cluttered_omniglot.ClutteredOmniglotConfig(
        name="dummy_clutter_4",
        description="Clutter 4, one job per split, for tests.",
        clutter=4,
        train_examples=EXAMPLES_PER_SPLIT,
        eval_examples=EXAMPLES_PER_SPLIT,
    )


class ClutteredOmniglotManualDirTest(LocalRunnerMixin, tfds.testing.DatasetBuilderTestCase):
    """Build from the manual dir: TFDS points it at dummy_data/, which contains both archives."""

    DATASET_CLASS = cluttered_omniglot.ClutteredOmniglot
    BUILDER_CONFIG_NAMES_TO_TEST = [small_config()]
    SPLITS = SPLIT_SIZES


class ClutteredOmniglotDownloadTest(LocalRunnerMixin, tfds.testing.DatasetBuilderTestCase):
    """Build through `dl_manager.download`, whose URLs TFDS checks against checksums.tsv.

    TFDS uses EXAMPLE_DIR as the manual dir. The package folder contains no archive, so the builder
    downloads, and TFDS returns for each download the dummy_data/ archive named in
    DL_DOWNLOAD_RESULT.
    """

    DATASET_CLASS = cluttered_omniglot.ClutteredOmniglot
    BUILDER_CONFIG_NAMES_TO_TEST = [small_config()]
    SPLITS = SPLIT_SIZES
    EXAMPLE_DIR = str(PACKAGE_DIR)
    DL_DOWNLOAD_RESULT = {
        "images_background": "dummy_data/images_background.zip",
        "images_evaluation": "dummy_data/images_evaluation.zip",
    }


if __name__ == "__main__":
    tfds.testing.test_main()
