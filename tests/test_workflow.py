"""How researchers use a built config: build log, TFDS visualization, dataset card, on-the-fly API.

One small config (clutter 4, 2000 examples per split) is built from the real Omniglot archives
with `tfds build` once per session (see `workflow_helpers.small_build`).
"""

import re

import matplotlib
from matplotlib import figure as mpl_figure
import numpy as np
import pytest
import tensorflow_datasets as tfds
from tensorflow_datasets.core import dataset_metadata

import cluttered_omniglot
from cluttered_omniglot import on_the_fly
import workflow_helpers

matplotlib.use("Agg")  # Tests have no display. This must run before TFDS imports pyplot.

FEATURE_NAMES = set(on_the_fly.FEATURE_SPECS)


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return workflow_helpers.small_build(tmp_path_factory)


@pytest.fixture(scope="module")
def renderer(build):
    return on_the_fly.Renderer(build.manual_dir)


def _load(build, split, **kwargs):
    return tfds.load(build.name, split=split, data_dir=build.data_dir, **kwargs)


def _examples_by_index(build, split, indices=None):
    """Return {index: example as numpy dict} of a built split, optionally only the given indices."""
    found = {}
    for example in tfds.as_numpy(_load(build, split)):
        index = int(example["index"])
        if indices is None or index in indices:
            found[index] = example
    return found


def _assert_same_example(expected, actual, where):
    assert set(actual) == set(expected), f"{where}: feature names differ"
    for name, expected_value in expected.items():
        actual_value = np.asarray(actual[name])
        assert actual_value.dtype == np.asarray(expected_value).dtype, f"{where}: dtype of {name}"
        np.testing.assert_array_equal(actual_value, expected_value, err_msg=f"{where}: {name}")


# Build output


def test_build_log_lists_shards(build):
    for split in workflow_helpers.SPLIT_NAMES:
        assert re.search(rf"Split {split}: 2000 examples in 1 shards", build.log), split


def test_build_log_shows_beam_counters(build):
    for name, expected in (("shards", 5), ("scenes", 5 * 2000)):
        counter = re.search(rf"Beam counter cluttered_omniglot:{name} = (\d+)", build.log)
        assert counter, f"no {name} counter in the build log:\n{build.log[-3000:]}"
        assert int(counter.group(1)) == expected, name
    retries = re.search(r"Beam counter cluttered_omniglot:retried_characters = (\d+)", build.log)
    assert retries, f"no retried_characters counter in the build log:\n{build.log[-3000:]}"


# TFDS tools on a built config


def test_show_examples_returns_figure(build):
    dataset, info = _load(build, "val_train_alphabets", with_info=True)
    figure = tfds.show_examples(dataset, info, rows=1, cols=3, image_key="image", label_key="target_alphabet")
    assert isinstance(figure, mpl_figure.Figure)
    assert len(figure.axes) == 3


def test_as_dataframe_has_feature_columns(build):
    dataset, info = _load(build, "val_train_alphabets", with_info=True)
    frame = tfds.as_dataframe(dataset.take(4), info)
    assert len(frame) == 4
    assert FEATURE_NAMES <= set(frame.columns)
    assert frame["image"].iloc[0].shape == (96, 96, 3)
    assert set(frame["target_alphabet"]) <= set(range(30))  # val_train_alphabets uses background alphabets


def test_supervised_keys_feed_two_inputs(build):
    dataset = _load(build, "val_train_alphabets", as_supervised=True)
    inputs, segmentation = next(iter(tfds.as_numpy(dataset)))
    assert set(inputs) == {"image", "target"}
    assert inputs["image"].shape == (96, 96, 3)
    assert inputs["target"].shape == (32, 32, 3)
    assert segmentation.shape == (96, 96, 1)


# Dataset card


def test_info_reads_dataset_card(build):
    info = tfds.builder(build.name, data_dir=build.data_dir).info
    assert "val-one-shot" in info.description
    assert "bit-identical" in info.description
    assert "michaelis2018oneshot" in info.citation
    assert "lake2015human" in info.citation
    assert info.homepage == "https://github.com/michaelisc/cluttered-omniglot"


def test_card_tags_are_valid():
    builder_dir = workflow_helpers.REPO_DIR / "cluttered_omniglot"
    metadata = dataset_metadata.load(builder_dir)
    assert metadata.tags, "TAGS.txt lists no tags"
    invalid = set(metadata.tags) - set(dataset_metadata.valid_tags())
    assert not invalid, f"tags not in TFDS's valid_tags.txt: {sorted(invalid)}"


def test_paper_config_info_has_card(tmp_path):
    # A paper config's info is available before any build, read from the files beside the builder.
    info = cluttered_omniglot.ClutteredOmniglot(config="clutter_32", data_dir=tmp_path).info
    assert "One-Shot Segmentation in Clutter" in info.description
    assert "michaelis2018oneshot" in info.citation


# On-the-fly API against the built dataset


def test_renderer_matches_built_job(build, renderer):
    # val_eval_alphabets draws from the evaluation archive, so this also checks the label offsets.
    built = _examples_by_index(build, "val_eval_alphabets")
    job = renderer.job("val_eval_alphabets", clutter=4, job_index=0)
    assert sorted(built) == list(job["index"])
    for position, index in enumerate(job["index"]):
        _assert_same_example(built[int(index)], {k: v[position] for k, v in job.items()}, f"example {index}")


def test_renderer_example_matches_built(build, renderer):
    indices = {0, 17, 250}
    built = _examples_by_index(build, "train", indices)
    for index in sorted(indices):
        _assert_same_example(built[index], renderer.example("train", clutter=4, index=index), f"train {index}")


def test_renderer_dataset_matches_built(build, renderer):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    info = tfds.builder(build.name, data_dir=build.data_dir).info
    dataset = renderer.as_dataset("test_train_alphabets", clutter=4, examples=2000)
    assert dataset.element_spec.keys() == info.features.get_tensor_spec().keys()
    for name, spec in info.features.get_tensor_spec().items():
        assert dataset.element_spec[name].shape == spec.shape, name
        assert dataset.element_spec[name].dtype == spec.dtype, name

    first = list(tfds.as_numpy(dataset.take(3)))
    built = _examples_by_index(build, "test_train_alphabets", {0, 1, 2})
    for index, example in enumerate(first):
        _assert_same_example(built[index], example, f"as_dataset example {index}")

    supervised = renderer.as_dataset("test_train_alphabets", clutter=4, examples=2000, as_supervised=True)
    inputs, segmentation = next(iter(supervised))
    assert set(inputs) == {"image", "target"}
    assert segmentation.dtype == tf.uint8


def test_renderer_rejects_invalid_requests(renderer):
    with pytest.raises(ValueError, match="multiple of 2000"):
        renderer.as_dataset("train", clutter=4, examples=100)
    with pytest.raises(ValueError, match="Unknown split"):
        renderer.job("validation", clutter=4, job_index=0)
    with pytest.raises(ValueError, match="^index must be a whole number from 0 to 9999"):
        renderer.example("val_train_alphabets", clutter=4, index=10_000)
    with pytest.raises(ValueError, match="job_index must be a whole number from 0 to 4"):
        renderer.job("val_train_alphabets", clutter=4, job_index=5)
    with pytest.raises(ValueError, match="clutter must be"):
        renderer.job("val_train_alphabets", clutter=0, job_index=0)
    with pytest.raises(ValueError, match="count must be"):
        renderer.job("val_train_alphabets", clutter=4, job_index=0, count=0)
    with pytest.raises(ValueError, match="at most 10000"):
        list(renderer.examples("val_train_alphabets", clutter=4, examples=12_000))


def test_renderer_rejects_folder_without_archives(tmp_path):
    with pytest.raises(FileNotFoundError, match="Neither images_background.zip nor images_evaluation.zip"):
        on_the_fly.Renderer(tmp_path)
