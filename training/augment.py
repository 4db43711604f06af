"""Train-time augmentation, batched inside the TensorFlow input pipeline.

It covers what the app feeds the model: crops aligned on the eye line by a landmark model
(so small residual rotation, shift and scale errors), mirrored webcams (flips), and
webcam lighting and optics (brightness, contrast, gamma, blur, noise), plus small occlusions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of each random change; each trades robustness against fitting the clean data."""

    geometric_probability: float = 0.6  # the rest stay pixel-exact: bilinear resampling softens
    # an image, and a network that only ever saw softened faces mis-normalises sharp ones
    # (measured: BatchNorm statistics off by 2-20x on clean val images when every image was warped).
    max_rotation_deg: float = 12.0
    scale_range: tuple[float, float] = (0.9, 1.12)
    max_shift_fraction: float = 0.08
    flip: bool = True
    brightness: float = 0.15  # additive, on [0, 1] pixels
    contrast_range: tuple[float, float] = (0.7, 1.3)
    gamma_range: tuple[float, float] = (0.7, 1.4)
    blur_probability: float = 0.0  # the training split is already blurred
    noise_stddev_max: float = 0.0  # noise would put back the detail the blurred inputs lack
    erase_probability: float = 0.25
    erase_size_fraction: float = 0.25


def _random_affine(images: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    batch = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)
    angle = tf.random.uniform([batch], -1.0, 1.0) * math.radians(config.max_rotation_deg)
    scale = tf.random.uniform([batch], *config.scale_range)
    shift = tf.random.uniform([batch, 2], -1.0, 1.0) * config.max_shift_fraction * size
    flip = tf.cast(tf.random.uniform([batch]) < 0.5, tf.float32) * 2.0 - 1.0 if config.flip else tf.ones([batch])
    # Images left unwarped get the identity (flips are exact, so they keep theirs).
    warp = tf.cast(tf.random.uniform([batch]) < config.geometric_probability, tf.float32)
    angle, scale, shift = angle * warp, 1.0 + (scale - 1.0) * warp, shift * warp[:, None]
    # Output->input mapping about the centre: in = R(-angle)/scale * F * (out - c) + c - shift.
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    centre = (size - 1.0) / 2.0
    a0, a1 = cos * flip, sin
    b0, b1 = -sin * flip, cos
    a2 = centre - a0 * centre - a1 * centre - shift[:, 0]
    b2 = centre - b0 * centre - b1 * centre - shift[:, 1]
    zeros = tf.zeros([batch])
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT",
    )


def _photometric(images: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    batch = tf.shape(images)[0]

    def per_image(low, high):
        return tf.random.uniform([batch, 1, 1, 1], low, high)

    gamma = per_image(*config.gamma_range)
    images = tf.pow(tf.clip_by_value(images, 1e-4, 1.0), gamma)
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    images = (images - mean) * per_image(*config.contrast_range) + mean
    images = images + per_image(-config.brightness, config.brightness)
    blur_kernel = tf.constant([[1, 2, 1], [2, 4, 2], [1, 2, 1]], tf.float32)[:, :, None, None] / 16.0
    blurred = tf.nn.conv2d(images, blur_kernel, strides=1, padding="SAME")
    use_blur = tf.cast(per_image(0.0, 1.0) < config.blur_probability, tf.float32)
    images = images + use_blur * (blurred - images)
    images = images + tf.random.normal(tf.shape(images)) * per_image(0.0, config.noise_stddev_max)
    return tf.clip_by_value(images, 0.0, 1.0)


def _random_erase(images: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    shape = tf.shape(images)
    batch, size = shape[0], tf.cast(shape[1], tf.float32)
    half = config.erase_size_fraction * size / 2.0
    centres = tf.random.uniform([batch, 2], 0.0, size)
    coords = tf.range(size)
    inside_y = tf.abs(coords[None, :] - centres[:, 0:1]) < half
    inside_x = tf.abs(coords[None, :] - centres[:, 1:2]) < half
    box = tf.logical_and(inside_y[:, :, None], inside_x[:, None, :])
    apply = tf.random.uniform([batch, 1, 1]) < config.erase_probability
    mask = tf.cast(tf.logical_and(box, apply), tf.float32)[..., None]
    fill = tf.random.uniform([batch, 1, 1, 1])
    return images * (1.0 - mask) + fill * mask


def augment_batch(images: tf.Tensor, config: AugmentConfig = AugmentConfig()) -> tf.Tensor:
    """Randomly augment a float32 batch (N, H, W, 1) in [0, 1]; output has the same shape and range."""
    images = _random_affine(images, config)
    images = _photometric(images, config)
    if config.erase_probability > 0:
        images = _random_erase(images, config)
    return images
