"""The emotion CNN: a small residual network of 3x3 convolutions.

Chosen for accuracy per CPU-second: few channels at high resolution keep the multiply count
low enough for the latency budget through LiteRT on one thread, residual shortcuts let it
train fast with a short schedule, and per-image standardisation inside the graph makes it
robust to lighting while keeping the shared preprocessing trivial.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

from arfilter.vision.labels import EMOTION_LABELS
from arfilter.vision.preprocessing import INPUT_SIZE, STANDARDIZE_EPSILON


@keras.saving.register_keras_serializable(package="arfilter")
class PerImageStandardization(layers.Layer):
    """(x - mean) / std per image, so brightness and contrast changes do not move the input."""

    def call(self, inputs):
        mean = keras.ops.mean(inputs, axis=(1, 2, 3), keepdims=True)
        variance = keras.ops.mean(keras.ops.square(inputs - mean), axis=(1, 2, 3), keepdims=True)
        return (inputs - mean) * keras.ops.rsqrt(variance + STANDARDIZE_EPSILON)


@keras.saving.register_keras_serializable(package="arfilter")
class StepDropout(layers.Layer):
    """Dropout whose mask is a pure function of (seed, training step), the step saved with the weights.

    Keras' own Dropout draws from a seed generator whose state a checkpoint does not restore,
    so a resumed run would drop different units than the uninterrupted one; this one resumes exactly.
    """

    def __init__(self, rate: float, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.seed = float(rate), int(seed)

    def build(self, input_shape):
        self.step = self.add_weight(shape=(), dtype="int64", initializer="zeros", trainable=False, name="step")

    def call(self, inputs, training=False):
        if not training or self.rate <= 0:
            return inputs
        import tensorflow as tf

        self.step.assign_add(1)
        keep = tf.random.stateless_uniform(tf.shape(inputs), tf.stack([tf.constant(self.seed, tf.int64), tf.convert_to_tensor(self.step.value)])) >= self.rate
        return tf.where(keep, inputs / (1.0 - self.rate), tf.zeros_like(inputs))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@dataclass(frozen=True)
class ModelConfig:
    """Width and depth of the network; the defaults are the shipped model.

    Each stage halves the resolution with a strided 3x3 convolution and then adds
    `units` residual 3x3 convolutions. Plain convolutions beat depthwise-separable ones here:
    at these channel counts they train about twice as fast per epoch on a CPU and quantise
    to int8 well (measured; see models/README.md).
    """

    stem_channels: int = 16
    stage_channels: tuple[int, ...] = (32, 64, 128)
    units_per_stage: tuple[int, ...] = (1, 2, 2)
    head_channels: int = 256
    dropout: float = 0.4
    # The network may upscale the 48 px face inside the graph: finer feature maps for the same
    # input, so the app's contract (48 px crops) stays as it is whatever this is.
    network_input_size: int = INPUT_SIZE

    def scaled(self, width: float = 1.0, depth: float = 1.0, network_input_size: int = INPUT_SIZE) -> ModelConfig:
        """Every convolution's channels times `width` (the dense head is kept: it is cheap), residual
        units per stage times `depth`, and the face upscaled to `network_input_size` inside the graph."""
        def scale(channels: int) -> int:
            return max(8, round(channels * width / 8) * 8)

        return ModelConfig(scale(self.stem_channels), tuple(scale(c) for c in self.stage_channels),
                           tuple(max(1, round(units * depth)) for units in self.units_per_stage),
                           scale(self.head_channels), self.dropout, network_input_size)


def _conv_bn(x, channels: int, strides: int, name: str):
    x = layers.Conv2D(channels, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    # momentum 0.9 (not 0.99): the moving statistics follow the weights closely enough that
    # per-epoch validation in inference mode measures the current model.
    return layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)


def network_after_standardization(model: keras.Model, name: str | None = None) -> keras.Model:
    """The same layers and weights, taking already-standardised faces (what the .tflite exports run)."""
    return keras.Model(model.get_layer("standardize").output, model.output, name=name or f"{model.name}_core")


def build_model(config: ModelConfig = ModelConfig()) -> keras.Model:
    """Functional model: (N, 48, 48, 1) floats in [0, 1] -> (N, 7) logits."""
    if len(config.stage_channels) != len(config.units_per_stage):
        raise ValueError("stage_channels and units_per_stage must have the same length")
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    x = PerImageStandardization(name="standardize")(inputs)
    if config.network_input_size != INPUT_SIZE:
        x = layers.Resizing(config.network_input_size, config.network_input_size, interpolation="bilinear",
                            name="upscale")(x)
    x = layers.ReLU(name="stem_relu")(_conv_bn(x, config.stem_channels, 1, "stem"))
    for stage, (channels, units) in enumerate(zip(config.stage_channels, config.units_per_stage), start=1):
        x = layers.ReLU(name=f"stage{stage}_down_relu")(_conv_bn(x, channels, 2, f"stage{stage}_down"))
        for unit in range(1, units + 1):
            residual = _conv_bn(x, channels, 1, f"stage{stage}_unit{unit}")
            x = layers.ReLU(name=f"stage{stage}_unit{unit}_relu")(layers.Add(name=f"stage{stage}_unit{unit}_add")([x, residual]))
    x = layers.ReLU(name="head_relu")(_conv_bn(x, config.head_channels, 2, "head"))
    # Flatten, not global pooling: where a feature sits (brow, eye, mouth) matters for expressions.
    x = layers.Flatten(name="flatten")(x)
    x = StepDropout(config.dropout, name="dropout")(x)
    # float32 logits even under mixed precision, so the loss and calibration stay exact.
    outputs = layers.Dense(len(EMOTION_LABELS), dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="arfilter_emotion")


@keras.saving.register_keras_serializable(package="arfilter")
class MirrorFaces(layers.Layer):
    """The faces mirrored left to right (N, H, W, C): a second, free view of the same expression."""

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=2)


def build_ensemble(members: list[keras.Model], mirror_split: bool = False) -> keras.Model:
    """One graph that averages the logits of independently trained members on a shared standardisation.

    Members trained from different seeds disagree on different faces, so their average is right
    more often than any one of them; one graph keeps the app's contract (one file, one invoke)
    and lets the converter quantise it as a whole. With `mirror_split` every second member sees
    the mirrored face: most of what test-time flip averaging buys, at no extra cost.
    Each member must be a `build_model` network.
    """
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    standardized = PerImageStandardization(name="standardize")(inputs)
    mirrored = MirrorFaces(name="mirror")(standardized) if mirror_split else standardized
    cores = [network_after_standardization(member, f"member{index}") for index, member in enumerate(members, start=1)]
    outputs = layers.Average(name="ensemble_average")([core(mirrored if index % 2 else standardized)
                                                       for index, core in enumerate(cores)])
    return keras.Model(inputs, outputs, name="arfilter_emotion_ensemble")


@keras.saving.register_keras_serializable(package="arfilter")
class LogitAdjustedCrossEntropy(keras.losses.Loss):
    """Cross-entropy on logits shifted by `log(class prior)` during training only (Menon et al. 2021).

    The network then has to beat each class's prior on its own, so its raw logits rank the rare
    classes (disgust, fear) fairly without per-sample class weights; the shipped graph is unchanged.
    """

    def __init__(self, log_prior, label_smoothing: float = 0.0, name: str = "logit_adjusted_ce", **kwargs):
        super().__init__(name=name, **kwargs)
        self.log_prior = [float(value) for value in log_prior]
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        shift = keras.ops.convert_to_tensor(self.log_prior, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(y_true, y_pred + shift, from_logits=True,
                                                     label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "log_prior": self.log_prior, "label_smoothing": self.label_smoothing}
