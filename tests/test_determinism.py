"""The same config gives the same examples whatever Beam runner setup and file format built it.

The reference is the small config (clutter 4, one 2000-example job per split) built without Beam
options, so by the builder's process pool, and written as tfrecord. Every other build must have, for
every split, the same md5 per example index (scene, target, mask and labels) and the examples in
index order. Builds that write tfrecord must also write the same files, byte for byte.

The default run checks two worker processes writing tfrecord and array_record. The other runner and
format combinations are marked slow.
"""

import pytest
import tensorflow_datasets as tfds

from tests import robustness_helpers as helpers

IN_PROCESS = None
ONE_WORKER_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=multi_processing"]
TWO_WORKER_PROCESSES = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
TFRECORD = tfds.core.FileFormat.TFRECORD
ARRAY_RECORD = tfds.core.FileFormat.ARRAY_RECORD

VARIANTS = (
    pytest.param(TWO_WORKER_PROCESSES, TFRECORD, id="two_workers-tfrecord"),
    pytest.param(TWO_WORKER_PROCESSES, ARRAY_RECORD, id="two_workers-array_record"),
    pytest.param(IN_PROCESS, ARRAY_RECORD, id="in_process-array_record", marks=pytest.mark.slow),
    pytest.param(ONE_WORKER_PROCESS, TFRECORD, id="one_worker-tfrecord", marks=pytest.mark.slow),
    pytest.param(ONE_WORKER_PROCESS, ARRAY_RECORD, id="one_worker-array_record", marks=pytest.mark.slow),
)


@pytest.mark.parametrize("beam_options, file_format", VARIANTS)
def test_build_matches_reference(beam_options, file_format, tmp_path, tmp_path_factory):
    expected = helpers.reference_fingerprints(tmp_path_factory)
    data_dir = tmp_path / "data"
    config = helpers.small_config("robustness_reference")

    helpers.build(data_dir, config, helpers.manual_dir_or_skip(), beam_options=beam_options, file_format=file_format)
    actual = helpers.all_fingerprints(data_dir, config)

    builder = helpers.load_builder(data_dir, config)
    assert builder.info.file_format == file_format
    record_files = list(helpers.dataset_dir(data_dir, config.name).glob(f"*.{file_format.file_suffix}*"))
    assert len(record_files) >= len(helpers.SPLIT_NAMES)
    for split in helpers.SPLIT_NAMES:
        expected_order, expected_fingerprints = expected[split]
        actual_order, actual_fingerprints = actual[split]
        assert len(actual_fingerprints) == helpers.SMALL_EXAMPLES, split
        differing = sorted(i for i in expected_fingerprints if actual_fingerprints.get(i) != expected_fingerprints[i])
        assert differing == [], f"{split}: examples {differing[:10]} differ from the reference build"
        assert actual_order == expected_order, f"{split}: examples are stored in another order"
    if file_format == TFRECORD:
        reference_dir, _, _ = helpers.reference_build(tmp_path_factory)
        assert helpers.record_file_digests(data_dir, config) == helpers.record_file_digests(reference_dir, config)


def test_reference_covers_every_index(tmp_path_factory):
    # Guards the comparison above: the reference build holds indices 0..1999 of every split once, in order.
    expected = helpers.reference_fingerprints(tmp_path_factory)

    for split in helpers.SPLIT_NAMES:
        order, fingerprints = expected[split]
        assert order == list(range(helpers.SMALL_EXAMPLES)), split
        assert len(set(fingerprints.values())) == helpers.SMALL_EXAMPLES, f"{split} has duplicate examples"
