"""Print a short summary of a built cluttered_omniglot config: splits, sizes and a sanity check.

Usage: python scripts/summarize_build.py --data_dir DIR cluttered_omniglot/CONFIG
"""

import argparse
import hashlib

import numpy as np
import tensorflow_datasets as tfds

import cluttered_omniglot  # noqa: F401  (registers the builder)


def summarize(name, data_dir):
    builder = tfds.builder(name, data_dir=data_dir)
    info = builder.info
    # A custom config loads back as a plain BuilderConfig, so the clutter level comes from the
    # metadata that the builder stores with the dataset.
    print(f"{name}: {info.metadata['clutter']} characters per scene, stored in {builder.data_dir}")
    print(f"{'split':24} {'examples':>9} {'shards':>6} {'MB':>8} {'bytes/example':>14}")
    for split_name, split in info.splits.items():
        size = split.num_bytes
        print(f"{split_name:24} {split.num_examples:9d} {split.num_shards:6d} {size / 1e6:8.1f} "
              f"{size / split.num_examples:14.0f}")

    checked = empty = 0
    for example in tfds.as_numpy(builder.as_dataset(split="val_train_alphabets").take(500)):
        mask = example["segmentation"][..., 0].astype(bool)
        checked += 1
        # A target whose strokes all lie in the crop's dropped last row and column is invisible.
        if not mask.any():
            empty += 1
            continue
        target_pixels = example["image"][mask]
        assert (target_pixels == target_pixels[0]).all(), f"example {example['index']}: mask is not one colour"
    first = next(iter(tfds.as_numpy(builder.as_dataset(split="val_train_alphabets", shuffle_files=False))))
    digest = hashlib.md5(np.ascontiguousarray(first["image"]).tobytes()).hexdigest()
    print(f"checked {checked} val_train_alphabets examples: every non-empty mask lies on one target "
          f"colour; {empty} masks are empty")
    print(f"md5 of the scene with index {first['index']} of val_train_alphabets: {digest}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="dataset/config, e.g. cluttered_omniglot/clutter_4")
    parser.add_argument("--data_dir", required=True, help="TFDS data directory of the build")
    args = parser.parse_args()
    summarize(args.name, args.data_dir)


if __name__ == "__main__":
    main()
