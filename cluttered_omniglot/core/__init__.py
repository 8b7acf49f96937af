"""Rendering core of Cluttered Omniglot: reads the Omniglot archives and generates examples.

Nothing in this subpackage imports TensorFlow, TFDS or Apache Beam.
"""
