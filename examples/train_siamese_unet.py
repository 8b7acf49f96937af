"""Train a small Siamese U-Net on a built Cluttered Omniglot config and report its mean IoU.

The model follows the idea of the Siamese U-Net of Michaelis, Bethge and Ecker ("One-Shot
Segmentation in Clutter", ICML 2018), scaled down: one convolutional encoder, shared by the scene
and the target, encodes both. The target's encoding is pooled to a vector, tiled over the scene's
lowest-resolution features and concatenated with them. A decoder with skip connections from the
scene encoder upsamples the result to one 96x96 mask logit.

Example, after `tfds build cluttered_omniglot --imports cluttered_omniglot --config clutter_4`:

    python examples/train_siamese_unet.py --dataset cluttered_omniglot/clutter_4 \\
        --steps 1000 --epochs 10 --batch_size 64

The script prints the mean IoU of the thresholded mask (sigmoid > 0.5) on `val_train_alphabets`,
the split meant for tuning, as the line `val_train_alphabets mean IoU: <value>`.
"""

import argparse

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

import cluttered_omniglot  # noqa: F401  # registers the builder, so custom configs load by name

keras = tf.keras

SCENE_SHAPE = (96, 96, 3)
TARGET_SHAPE = (32, 32, 3)
THRESHOLD = 0.5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--dataset", default="cluttered_omniglot/clutter_4",
                        help="TFDS name of a built config, such as cluttered_omniglot/clutter_4.")
    parser.add_argument("--data_dir", default=None,
                        help="TFDS data dir of the build (default: TFDS's default, ~/tensorflow_datasets).")
    parser.add_argument("--steps", type=int, default=200, help="Training steps (batches) per epoch.")
    parser.add_argument("--batch_size", type=int, default=32, help="Examples per training batch.")
    parser.add_argument("--epochs", type=int, default=1, help="Training epochs of --steps steps each.")
    parser.add_argument("--eval_split", default="val_train_alphabets",
                        help="Split on which the mean IoU is reported. Tune on val_train_alphabets only.")
    parser.add_argument("--eval_examples", type=int, default=None,
                        help="Evaluate on the first N examples of --eval_split (default: all).")
    parser.add_argument("--filters", type=int, default=16,
                        help="Filters of the first encoder level. Each further level has twice as many.")
    parser.add_argument("--learning_rate", type=float, default=1e-3, help="Adam learning rate.")
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "epochs", "filters"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}.")
    if args.eval_examples is not None and args.eval_examples < 1:
        parser.error(f"--eval_examples must be at least 1, got {args.eval_examples}.")
    return args


class ConvBlock(keras.layers.Layer):
    """Two 3x3 convolutions with ReLU. One instance applied to scene and target shares weights."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.first = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")
        self.second = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")

    def call(self, inputs):
        return self.second(self.first(inputs))


def build_model(filters=16):
    """Return a Keras model mapping {"image", "target"} (uint8) to a (96, 96, 1) mask logit."""
    image = keras.Input(SCENE_SHAPE, dtype="uint8", name="image")
    target = keras.Input(TARGET_SHAPE, dtype="uint8", name="target")
    rescale = keras.layers.Rescaling(1.0 / 255.0)
    pool = keras.layers.MaxPooling2D(2)

    # The same blocks encode the scene and the target (Siamese weight sharing).
    encoder_blocks = [ConvBlock(filters * 2**level, name=f"encoder_{level}") for level in range(3)]

    scene_features = []  # per level, before pooling: 96x96, 48x48, 24x24
    x = rescale(image)
    for block in encoder_blocks:
        x = block(x)
        scene_features.append(x)
        x = pool(x)
    # x: the scene encoding at 12x12.

    t = rescale(target)
    for block in encoder_blocks:
        t = pool(block(t))
    target_vector = keras.layers.GlobalAveragePooling2D(name="target_embedding")(t)

    # Tile the target embedding over the 12x12 scene encoding and concatenate it on the channels.
    tiled = keras.layers.RepeatVector(12 * 12)(target_vector)
    tiled = keras.layers.Reshape((12, 12, target_vector.shape[-1]))(tiled)
    x = keras.layers.Concatenate()([x, tiled])
    x = ConvBlock(filters * 8, name="bottleneck")(x)

    for level in reversed(range(3)):
        x = keras.layers.Conv2DTranspose(filters * 2**level, 2, strides=2, padding="same")(x)
        x = keras.layers.Concatenate()([x, scene_features[level]])
        x = ConvBlock(filters * 2**level, name=f"decoder_{level}")(x)
    logits = keras.layers.Conv2D(1, 1, name="mask_logit")(x)
    return keras.Model({"image": image, "target": target}, logits, name="siamese_unet")


def bce_dice_loss(segmentation, logits):
    """Return per-example binary cross-entropy plus soft Dice loss of the mask logits.

    The target covers about 1% of the scene on average, so cross-entropy alone first learns to
    predict background everywhere (IoU 0). The Dice term rewards overlap with the target from the
    start.
    """
    cross_entropy = tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=segmentation, logits=logits), axis=[1, 2, 3]
    )
    probabilities = tf.sigmoid(logits)
    intersection = tf.reduce_sum(segmentation * probabilities, axis=[1, 2, 3])
    total = tf.reduce_sum(segmentation, axis=[1, 2, 3]) + tf.reduce_sum(probabilities, axis=[1, 2, 3])
    dice = (2.0 * intersection + 1.0) / (total + 1.0)
    return cross_entropy + (1.0 - dice)


def to_float_mask(inputs, segmentation):
    return inputs, tf.cast(segmentation, tf.float32)


def training_dataset(args):
    dataset = tfds.load(args.dataset, split="train", as_supervised=True, data_dir=args.data_dir,
                        shuffle_files=True)
    return (
        dataset.shuffle(1000)
        .repeat()
        .map(to_float_mask, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(args.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def evaluation_dataset(args):
    split = args.eval_split if args.eval_examples is None else f"{args.eval_split}[:{args.eval_examples}]"
    dataset = tfds.load(args.dataset, split=split, as_supervised=True, data_dir=args.data_dir)
    return dataset.batch(args.batch_size).prefetch(tf.data.AUTOTUNE)


def mean_iou(model, dataset):
    """Return the mean over examples of the IoU of the mask thresholded at sigmoid 0.5.

    An example whose predicted and true masks are both empty counts as IoU 1. The generator never
    writes an empty true mask, so this only guards the division.
    """
    ious = []
    for inputs, segmentation in dataset:
        predicted = tf.sigmoid(model(inputs, training=False)) > THRESHOLD
        truth = segmentation > 0
        intersection = tf.reduce_sum(tf.cast(predicted & truth, tf.float64), axis=[1, 2, 3])
        union = tf.reduce_sum(tf.cast(predicted | truth, tf.float64), axis=[1, 2, 3])
        ious.append(np.where(union.numpy() > 0, intersection.numpy() / np.maximum(union.numpy(), 1), 1.0))
    return float(np.mean(np.concatenate(ious)))


def main(argv=None):
    args = parse_args(argv)
    model = build_model(args.filters)
    model.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss=bce_dice_loss,
    )
    model.fit(training_dataset(args), epochs=args.epochs, steps_per_epoch=args.steps, verbose=2)
    score = mean_iou(model, evaluation_dataset(args))
    print(f"{args.eval_split} mean IoU: {score:.4f}")


if __name__ == "__main__":
    main()
