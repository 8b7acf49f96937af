"""Draw scenes, targets and masks of built Cluttered Omniglot configs into one PNG.

For each clutter level, the script builds the small custom config `figure_clutter_<N>` (2000
examples per split) unless it is already built in --data_dir, and draws the first --rows examples
of --split, one example per row: scene, target, mask.

    python scripts/make_figure.py --manual_dir ../shared/omniglot --clutter 4 32 \\
        --output docs/examples.png

Needs matplotlib (`pip install ".[figures]"`).
"""

import argparse
import os
import pathlib

import apache_beam as beam
import matplotlib
import tensorflow_datasets as tfds

import cluttered_omniglot

matplotlib.use("Agg")  # The script needs no display. This must run before pyplot is imported.
from matplotlib import pyplot as plt  # noqa: E402  # pylint: disable=wrong-import-position

MANUAL_DIR_VARIABLE = "CLUTTERED_OMNIGLOT_MANUAL_DIR"
EXAMPLES_PER_SPLIT = 2000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--clutter", type=int, nargs="+", default=[4, 32],
                        help="Clutter levels (characters per scene) to draw, one block each.")
    parser.add_argument("--rows", type=int, default=2, help="Examples drawn per clutter level.")
    parser.add_argument("--split", default="val_train_alphabets", help="Split the examples come from.")
    parser.add_argument("--data_dir", default=None,
                        help="TFDS data dir for the builds (default: TFDS's default, ~/tensorflow_datasets).")
    parser.add_argument("--manual_dir", default=os.environ.get(MANUAL_DIR_VARIABLE),
                        help=f"Folder with the two Omniglot archives (default: ${MANUAL_DIR_VARIABLE}). "
                             "Without it, the builder downloads them.")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("docs/examples.png"),
                        help="PNG file to write.")
    parser.add_argument("--dpi", type=int, default=150, help="Resolution of the PNG, in dots per inch.")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= EXAMPLES_PER_SPLIT:
        parser.error(f"--rows must be from 1 to {EXAMPLES_PER_SPLIT}, got {args.rows}.")
    return args


def prepared_builder(clutter, data_dir, manual_dir):
    """Return the builder of `figure_clutter_<clutter>`, building it first if needed."""
    config = cluttered_omniglot.ClutteredOmniglotConfig(
        name=f"figure_clutter_{clutter}", clutter=clutter,
        train_examples=EXAMPLES_PER_SPLIT, eval_examples=EXAMPLES_PER_SPLIT,
    )
    builder = cluttered_omniglot.ClutteredOmniglot(config=config, data_dir=data_dir)
    # FnApiRunner is the local runner DirectRunner would pick for this pipeline. Naming it skips
    # DirectRunner's first attempt, which downloads the Prism runner (Beam 2.77) from the network.
    beam_options = beam.options.pipeline_options.PipelineOptions([
        "--runner=FnApiRunner",
        f"--direct_num_workers={os.cpu_count() or 1}",
        "--direct_running_mode=multi_processing",
    ])
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual_dir, beam_options=beam_options)
    )
    return builder


def first_examples(builder, split, count):
    """Return the examples with `index` below `count`, sorted by `index`."""
    dataset = builder.as_dataset(split=split).filter(lambda example: example["index"] < count)
    return sorted(tfds.as_numpy(dataset), key=lambda example: int(example["index"]))


def draw(blocks, split, rows):
    """Return a figure with one block of `rows` x 3 panels per (clutter, examples) in `blocks`."""
    figure = plt.figure(figsize=(3.3 * len(blocks), 1.05 * rows + 0.5), layout="constrained")
    subfigures = figure.subfigures(1, len(blocks), squeeze=False)[0]
    for subfigure, (clutter, examples) in zip(subfigures, blocks):
        subfigure.suptitle(f"clutter {clutter}", fontsize="medium")
        axes = subfigure.subplots(rows, 3, squeeze=False)
        for row, example in enumerate(examples):
            panels = (
                (example["image"], {}, "scene"),
                (example["target"], {}, "target"),
                (example["segmentation"][..., 0], {"cmap": "gray", "vmin": 0, "vmax": 1}, "mask"),
            )
            for column, (pixels, style, label) in enumerate(panels):
                axis = axes[row, column]
                axis.imshow(pixels, interpolation="nearest", **style)
                axis.set_xticks([])
                axis.set_yticks([])
                if row == 0:
                    axis.set_title(label, fontsize="small")
            axes[row, 0].set_ylabel(f"{split}\n#{int(example['index'])}", fontsize="x-small")
    return figure


def main(argv=None):
    args = parse_args(argv)
    blocks = []
    for clutter in args.clutter:
        builder = prepared_builder(clutter, args.data_dir, args.manual_dir)
        blocks.append((clutter, first_examples(builder, args.split, args.rows)))
    figure = draw(blocks, args.split, args.rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.output, dpi=args.dpi)
    print(f"Wrote {args.output} ({args.output.stat().st_size} bytes).")


if __name__ == "__main__":
    main()
