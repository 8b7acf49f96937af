"""The wheel built from the repository ships the data files TFDS reads next to the builder module.

TFDS finds checksums.tsv, README.md, CITATIONS.bib, TAGS.txt and dummy_data/ through the builder's
module path, and the builder reads its class label files from there too, so a wheel without them
installs a builder that cannot check downloads or describe itself.
"""

import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

REPO_DIR = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = "cluttered_omniglot"
PACKAGE_FILES = (
    "checksums.tsv",
    "alphabet_names.txt",
    "character_names.txt",
    "README.md",
    "CITATIONS.bib",
    "TAGS.txt",
    "dummy_data/images_background.zip",
    "dummy_data/images_evaluation.zip",
    "__init__.py",
    "cluttered_omniglot_dataset_builder.py",
    "core/__init__.py",
)
# Local state that `pip wheel DIR` would not need: version control, environments, build output.
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "demo_data"
)
PIP_TIMEOUT_SECONDS = 300


@pytest.fixture(scope="module")
def wheel_path(tmp_path_factory):
    """Build the wheel with `pip wheel --no-deps` from a copy of the repository.

    The copy keeps setuptools' build/ and .egg-info/ folders out of the working tree, where stale
    build/ files would leak into later wheels and concurrent builds would collide.
    """
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(REPO_DIR, source, ignore=COPY_IGNORE)
    wheel_dir = tmp_path_factory.mktemp("wheels")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheel_dir), str(source)]
    # Without build isolation pip uses the installed setuptools and needs no package index.
    if importlib.util.find_spec("setuptools") is not None:
        command.insert(command.index("--no-deps"), "--no-build-isolation")
    result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, f"pip wheel failed:\n{result.stdout}\n{result.stderr}"
    wheels = list(wheel_dir.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {wheel_dir}, found {wheels}"
    return wheels[0]


@pytest.mark.parametrize("relative_path", PACKAGE_FILES)
def test_wheel_contains_file(wheel_path, relative_path):
    with zipfile.ZipFile(wheel_path) as wheel:
        names = set(wheel.namelist())
    assert f"{PACKAGE}/{relative_path}" in names


def test_wheel_files_match_repository(wheel_path):
    with zipfile.ZipFile(wheel_path) as wheel:
        for relative_path in PACKAGE_FILES:
            packaged = wheel.read(f"{PACKAGE}/{relative_path}")
            assert packaged == (REPO_DIR / PACKAGE / relative_path).read_bytes(), relative_path


def test_installed_wheel_finds_data(wheel_path, tmp_path):
    """Install the wheel into an empty folder and check what TFDS reads from the installed module."""
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", "--target", str(target),
         str(wheel_path)],
        capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False,
    )
    assert install.returncode == 0, f"pip install failed:\n{install.stdout}\n{install.stderr}"

    probe = textwrap.dedent(f"""
        import pathlib
        import cluttered_omniglot
        from cluttered_omniglot import omniglot_source

        builder_class = cluttered_omniglot.ClutteredOmniglot
        module_dir = pathlib.Path(cluttered_omniglot.__file__).parent
        assert module_dir.parent == pathlib.Path({str(target)!r}), module_dir
        assert set(builder_class.url_infos) == set(omniglot_source.ARCHIVE_URLS.values()), builder_class.url_infos
        assert (builder_class.code_path.parent / "dummy_data" / "images_background.zip").is_file()
        assert len(omniglot_source.ALPHABET_NAMES) == 50
        assert len(omniglot_source.CHARACTER_NAMES) == 1623
        metadata = builder_class.get_metadata()
        assert metadata.tags, "TAGS.txt was not found"
        assert metadata.citation.strip(), "CITATIONS.bib was not found"
        assert metadata.description.strip(), "README.md was not found"
        print("installed wheel OK")
    """)
    # PYTHONPATH replaces any inherited one that names the repository, and the working directory is
    # outside it, so the probe can import only the installed copy.
    environment = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=environment,
        timeout=PIP_TIMEOUT_SECONDS, check=False,
    )
    assert result.returncode == 0, f"probe of the installed wheel failed:\n{result.stdout}\n{result.stderr}"
