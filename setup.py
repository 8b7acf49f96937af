"""Packaging of the cluttered_omniglot TFDS builder."""

import pathlib

import setuptools

README = pathlib.Path(__file__).parent / "README.md"

setuptools.setup(
    name="cluttered-omniglot",
    version="1.0.0",
    description="Cluttered Omniglot one-shot segmentation benchmark as a TensorFlow Datasets builder",
    long_description=README.read_text() if README.exists() else "",
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["cluttered_omniglot", "cluttered_omniglot.*"]),
    package_data={
        "cluttered_omniglot": [
            "checksums.tsv",
            "*.txt",
            "README.md",
            "CITATIONS.bib",
            "dummy_data/*",
            "dummy_data/**/*",
        ],
    },
    install_requires=[
        "apache-beam>=2.50",
        "etils[epath]",
        # CRC-32C of TFRecord files, so that workers write them without importing TensorFlow,
        # which costs about 600 MB of memory per worker.
        "google-crc32c>=1.5",
        # tensorflow-datasets imports these in its command line and builder code without
        # declaring them as dependencies (seen with tensorflow-datasets 4.9.10).
        "importlib_resources",
        "mlcroissant",
        "numba>=0.59",
        "numpy>=1.24",
        "pillow>=9",
        "tensorflow-datasets>=4.9.4",
    ],
    extras_require={
        # TFDS needs TensorFlow to build and load datasets but leaves the choice of package to
        # the user, so this package does the same.
        "tensorflow": ["tensorflow>=2.15"],
        "tensorflow-cpu": ["tensorflow-cpu>=2.15"],
        # scripts/make_figure.py draws with matplotlib.
        "figures": ["matplotlib>=3.7"],
        # The workflow tests call tfds.show_examples (matplotlib) and tfds.as_dataframe (pandas);
        # tfds.testing imports dill without declaring it.
        "test": ["pytest>=7", "psutil", "matplotlib>=3.7", "pandas>=2", "dill"],
    },
)
