"""The Dataflow command of docs/dataflow.md, checked up to the point where Google Cloud is contacted.

Nothing here opens a network connection: an autouse fixture makes every socket connection and DNS
lookup fail the test. The checks are that TFDS's command line turns the documented options into a
`DownloadConfig`, that they pass Beam's validation for the Dataflow service, and that the source
distribution Beam stages for `--setup_file` installs and carries everything a worker needs.
"""

import os
import pathlib
import re
import shlex
import shutil
import socket
import string
import subprocess
import sys
import tarfile

from apache_beam.options import pipeline_options
from apache_beam.options.pipeline_options_validator import PipelineOptionsValidator
import pytest
from tensorflow_datasets.scripts.cli import cli_utils

import workflow_helpers

REPO_DIR = workflow_helpers.REPO_DIR
DATAFLOW_DOC = REPO_DIR / "docs" / "dataflow.md"
PACKAGE_DATA = (
    "checksums.tsv", "alphabet_names.txt", "character_names.txt", "README.md", "CITATIONS.bib", "TAGS.txt",
)
SUBPROCESS_TIMEOUT_SECONDS = 300


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def fail_on_network(*args, **kwargs):
        raise AssertionError(f"this test must not use the network, but it tried: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", fail_on_network)
    monkeypatch.setattr(socket, "getaddrinfo", fail_on_network)


class DataflowRunner:
    """Stand-in for Beam's DataflowRunner, which needs `apache-beam[gcp]` to import.

    Beam's `PipelineOptionsValidator` runs its Dataflow-only checks when the runner's class is named
    `DataflowRunner`, and reads the default region from it.
    """

    @staticmethod
    def get_default_gcp_region():
        return None  # As on a machine without gcloud configuration: --region is then required.


def documented_command():
    """Return the arguments of the `tfds build` command in docs/dataflow.md, variables substituted."""
    blocks = re.findall(r"```sh\n(.*?)```", DATAFLOW_DOC.read_text(), re.DOTALL)
    matching = [block for block in blocks if "runner=DataflowRunner" in block]
    assert len(matching) == 1, f"expected one sh block with runner=DataflowRunner in {DATAFLOW_DOC}"
    variables = {"PWD": str(REPO_DIR)}
    command_lines = []
    for line in matching[0].replace("\\\n", " ").splitlines():
        assignment = re.fullmatch(r"([A-Z_]+)=(\S+)", line.strip())
        if assignment:
            variables[assignment.group(1)] = assignment.group(2)
        elif line.strip():
            command_lines.append(line)
    assert len(command_lines) == 1, f"expected one command in the block, got {command_lines}"
    return shlex.split(string.Template(command_lines[0]).substitute(variables))


def flag_value(arguments, flag):
    for i, argument in enumerate(arguments):
        if argument.startswith(f"{flag}="):
            return argument.split("=", 1)[1]
        if argument == flag:
            return arguments[i + 1]
    raise AssertionError(f"{flag} is missing from the documented command {arguments}")


def documented_beam_options():
    """Return the PipelineOptions that `tfds build` makes of the documented command."""
    captured = {}

    class StopBeforeBuild:
        """Builder stand-in that records the DownloadConfig TFDS's command line hands to it."""

        class info:  # pylint: disable=invalid-name,too-few-public-methods
            full_name = "cluttered_omniglot/clutter_64/1.0.0"

        @staticmethod
        def download_and_prepare(download_dir, download_config):
            del download_dir
            captured["download_config"] = download_config

    cli_utils.download_and_prepare(
        builder=StopBeforeBuild(),
        download_config=None,
        download_dir=None,
        publish_dir=None,
        skip_if_published=False,
        overwrite=False,
        beam_pipeline_options=flag_value(documented_command(), "--beam_pipeline_options"),
    )
    return captured["download_config"].beam_options


def dataflow_errors(options):
    """Return Beam's validation errors for `options` on the Dataflow service, without contacting it."""
    # dry_run keeps Beam from asking Cloud Storage about the buckets' soft-delete policy.
    options.view_as(pipeline_options.TestOptions).dry_run = True
    return PipelineOptionsValidator(options, DataflowRunner()).validate()


# The documented command


def test_command_builds_paper_config_on_gcs():
    arguments = documented_command()
    assert arguments[:2] == ["tfds", "build"]
    assert flag_value(arguments, "--config") in {f"clutter_{level}" for level in (4, 8, 16, 32, 64, 128, 256)}
    assert flag_value(arguments, "--data_dir").startswith("gs://")


def test_tfds_cli_passes_dataflow_options():
    options = documented_beam_options()
    assert isinstance(options, pipeline_options.PipelineOptions)
    assert options.view_as(pipeline_options.StandardOptions).runner == "DataflowRunner"
    cloud = options.view_as(pipeline_options.GoogleCloudOptions)
    assert cloud.project == "my-project"
    assert cloud.region == "us-central1"
    assert cloud.temp_location == "gs://my-bucket/tmp"
    setup = options.view_as(pipeline_options.SetupOptions)
    assert pathlib.Path(setup.setup_file) == REPO_DIR / "setup.py"
    assert pathlib.Path(setup.requirements_file).is_file()
    assert "tensorflow" in pathlib.Path(setup.requirements_file).read_text()


def test_download_config_accepts_options():
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

    options = documented_beam_options()
    config = tfds.download.DownloadConfig(beam_options=options, manual_dir="gs://my-bucket/omniglot")
    assert config.beam_options.view_as(pipeline_options.StandardOptions).runner == "DataflowRunner"


def test_options_pass_dataflow_validation():
    assert dataflow_errors(documented_beam_options()) == []


# Beam's validation rejects what Dataflow would reject.


def _options(**overrides):
    values = {
        "runner": "DataflowRunner", "project": "my-project", "region": "us-central1",
        "temp_location": "gs://my-bucket/tmp", "job_name": "cluttered-omniglot-clutter-64",
    }
    values.update(overrides)
    flags = [f"--{name}={value}" for name, value in values.items() if value is not None]
    return pipeline_options.PipelineOptions(flags)


def test_validation_accepts_minimal_options():
    assert dataflow_errors(_options()) == []


def test_validation_rejects_underscore_job_name():
    errors = dataflow_errors(_options(job_name="cluttered-omniglot-clutter_64"))
    assert any("Invalid job_name" in error for error in errors), errors


def test_validation_requires_region():
    errors = dataflow_errors(_options(region=None))
    assert any("Missing required option: region" in error for error in errors), errors


def test_validation_rejects_local_temp_location():
    # Checked alone: with both temp and staging locations invalid, Beam would try to create a bucket.
    options = _options(temp_location="/tmp/beam")
    validator = PipelineOptionsValidator(options, DataflowRunner())
    errors = validator.validate_gcs_path(options.view_as(pipeline_options.GoogleCloudOptions), "temp_location")
    assert errors and "/tmp/beam" in errors[0]


# The source distribution that --setup_file stages


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    """Build the source distribution the way Beam's stager does when `build` is not installed."""
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(
        REPO_DIR, source,
        ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "dist",
                                      "demo_data", ".pytest_cache"),
    )
    dist_dir = tmp_path_factory.mktemp("dist")
    completed = subprocess.run(
        [sys.executable, "setup.py", "sdist", "--dist-dir", str(dist_dir)],
        cwd=source, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_SECONDS, check=False,
    )
    assert completed.returncode == 0, f"setup.py sdist failed:\n{completed.stderr[-4000:]}"
    archives = list(dist_dir.glob("*.tar.gz"))
    assert len(archives) == 1, f"expected one source distribution in {dist_dir}, found {archives}"
    return archives[0]


def _package_members(sdist_path):
    with tarfile.open(sdist_path) as archive:
        names = archive.getnames()
    members = set()
    for name in names:
        _, _, inside = name.partition("/")  # Drop the top folder `cluttered-omniglot-<version>/`.
        if inside.startswith("cluttered_omniglot/"):
            members.add(inside.removeprefix("cluttered_omniglot/"))
    return members


def test_sdist_has_every_module(sdist):
    members = _package_members(sdist)
    package_dir = REPO_DIR / "cluttered_omniglot"
    modules = {str(path.relative_to(package_dir)) for path in package_dir.rglob("*.py")
               if "__pycache__" not in path.parts}
    assert "cluttered_omniglot_dataset_builder.py" in modules
    assert "core/jobs.py" in modules
    missing = sorted(modules - members)
    assert not missing, f"modules missing from {sdist.name}: {missing}"


def test_sdist_has_package_data(sdist):
    members = _package_members(sdist)
    missing = sorted(set(PACKAGE_DATA) - members)
    assert not missing, f"data files missing from {sdist.name}: {missing}"


def test_sdist_installs_and_runs_worker_code(sdist, tmp_path):
    # A worker pip-installs the staged source distribution. --no-deps and --no-index keep this
    # offline: the test environment already has the dependencies.
    target = tmp_path / "site"
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), str(sdist)],
        capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_SECONDS, check=False,
    )
    assert completed.returncode == 0, f"pip install of {sdist.name} failed:\n{completed.stderr[-4000:]}"
    for name in PACKAGE_DATA:
        assert (target / "cluttered_omniglot" / name).is_file(), name

    manual_dir = os.environ.get(workflow_helpers.MANUAL_DIR_VARIABLE, "")
    worker_script = f"""
import pathlib, sys, tempfile
import tensorflow_datasets as tfds
import cluttered_omniglot
from cluttered_omniglot import beam_generation
from cluttered_omniglot import shard_writing

assert pathlib.Path(cluttered_omniglot.__file__).is_relative_to({str(target)!r}), cluttered_omniglot.__file__
info = cluttered_omniglot.ClutteredOmniglot(config="clutter_4", data_dir=tempfile.mkdtemp()).info
assert "michaelis2018oneshot" in info.citation
assert "val-one-shot" in info.description
archive = pathlib.Path({manual_dir!r}) / "images_evaluation.zip"  # the smaller archive
if {manual_dir!r} and archive.is_file():
    shard_path = pathlib.Path(tempfile.mkdtemp()) / "shard.tfrecord"
    task = shard_writing.ShardTask("val_eval_alphabets", 4, str(archive), 0, 1, 0, 2, str(shard_path))
    (result,) = beam_generation.WriteShard(info.features, tfds.core.FileFormat.TFRECORD).process(task)
    assert result.examples == 2, result
    assert shard_path.stat().st_size > 0
    print("rendered", result.examples)
print("worker ok")
"""
    env = workflow_helpers.subprocess_env()
    env["PYTHONPATH"] = str(target)  # Only the installed copy, not this repository.
    completed = subprocess.run(
        [sys.executable, "-c", worker_script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS, check=False,
    )
    assert completed.returncode == 0, f"the installed package failed:\n{completed.stderr[-4000:]}"
    assert "worker ok" in completed.stdout
    if manual_dir and (pathlib.Path(manual_dir) / "images_evaluation.zip").is_file():
        assert "rendered 2" in completed.stdout

