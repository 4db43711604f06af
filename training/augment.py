"""Train-time augmentation, batched inside the TensorFlow input pipeline.

It covers what the app feeds the model rather than what Kaggle's crops look like: faces cut
out of webcam and video frames by `align_face_crop` (residual rotation, shift, scale and
small yaw/pitch errors of the landmark model), mirrored webcams (flips), webcam optics and
compression (JPEG blocks, sensor noise, motion blur), low light and gamma, and occlusions
(a hand, the frame of a pair of glasses).

Every random draw is *stateless*: it is a function of a seed tensor that the input pipeline
derives from (run seed, epoch, step). A resumed run therefore sees exactly the batches the
uninterrupted run would have seen, which is what makes `train.py --resume` exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges and probabilities of each random change; each trades robustness against fitting the clean data."""

    geometric_probability: float = 0.6  # the rest stay pixel-exact: bilinear resampling softens
    # an image, and a network that only ever saw softened faces mis-normalises sharp ones.
    max_rotation_deg: float = 12.0  # residual roll after the eye-line alignment, and tilted Kaggle crops
    scale_range: tuple[float, float] = (0.9, 1.12)  # framing jitter of the aligned crop
    max_shift_fraction: float = 0.08
    max_perspective: float = 0.08  # small yaw/pitch: how much one edge may shrink against the other
    flip: bool = True
    brightness: float = 0.15  # additive, on [0, 1] pixels
    contrast_range: tuple[float, float] = (0.7, 1.3)
    gamma_range: tuple[float, float] = (0.6, 1.6)
    low_light_probability: float = 0.15  # dark frames: scaled down, then noisier (below)
    low_light_range: tuple[float, float] = (0.25, 0.7)
    noise_probability: float = 0.3
    noise_stddev_max: float = 0.05  # sensor noise, up to ~13 levels of 255
    motion_blur_probability: float = 0.12
    jpeg_probability: float = 0.3
    jpeg_quality_range: tuple[int, int] = (20, 95)
    erase_probability: float = 0.25  # a hand or an object over part of the face
    erase_size_fraction: float = 0.25
    glasses_probability: float = 0.08  # a dark band across the eye line, like a frame or sunglasses


# Named recipes for `train.py --augment`. "light" is the geometric and lighting part alone, for a
# short clean fine-tune after a run on "webcam" (it buys back clean accuracy; the model card measures
# what it costs under each corruption).
AUGMENTATIONS: dict[str, AugmentConfig] = {
    "webcam": AugmentConfig(),
    "light": AugmentConfig(max_perspective=0.0, gamma_range=(0.7, 1.4), low_light_probability=0.0, noise_probability=0.0,
                           motion_blur_probability=0.0, jpeg_probability=0.0, glasses_probability=0.0),
}


class _Seeds:
    """Hands out a fresh stateless seed per random op from one (2,) int32 seed tensor."""

    def __init__(self, seed: tf.Tensor, count: int = 40):
        self._seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=count)
        self._next = 0

    def __call__(self) -> tf.Tensor:
        seed = self._seeds[self._next]
        self._next += 1
        return seed


def _uniform(seeds: _Seeds, shape, low=0.0, high=1.0) -> tf.Tensor:
    return tf.random.stateless_uniform(shape, seeds(), low, high)


def _chance(seeds: _Seeds, batch: tf.Tensor, probability: float) -> tf.Tensor:
    """(N, 1, 1, 1) float mask: 1 for the images a change applies to."""
    return tf.cast(_uniform(seeds, [batch, 1, 1, 1]) < probability, tf.float32)


def _random_geometry(images: tf.Tensor, config: AugmentConfig, seeds: _Seeds) -> tf.Tensor:
    batch = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)
    angle = _uniform(seeds, [batch], -1.0, 1.0) * math.radians(config.max_rotation_deg)
    scale = _uniform(seeds, [batch], *config.scale_range)
    shift = _uniform(seeds, [batch, 2], -1.0, 1.0) * config.max_shift_fraction * size
    perspective = _uniform(seeds, [batch, 2], -1.0, 1.0) * config.max_perspective / size
    flip = tf.cast(_uniform(seeds, [batch]) < 0.5, tf.float32) * 2.0 - 1.0 if config.flip else tf.ones([batch])
    # Images left unwarped get the identity (flips are exact, so they keep theirs).
    warp = tf.cast(_uniform(seeds, [batch]) < config.geometric_probability, tf.float32)
    angle, scale, shift = angle * warp, 1.0 + (scale - 1.0) * warp, shift * warp[:, None]
    perspective = perspective * warp[:, None]
    # Output->input mapping about the centre c, with u = out - c and t = c - shift:
    #   in = (M u) / (1 + p.u) + t,  M = R(-angle)/scale * F,  p = perspective (foreshortens one side).
    # ImageProjectiveTransformV3 wants it over a denominator 1 + k.out, hence the division by d0.
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    centre = (size - 1.0) / 2.0
    a0, a1, b0, b1 = cos * flip, sin, -sin * flip, cos
    c0, c1 = perspective[:, 0], perspective[:, 1]
    tx, ty = centre - shift[:, 0], centre - shift[:, 1]
    d0 = 1.0 - (c0 + c1) * centre
    transforms = tf.stack([
        (a0 + tx * c0) / d0, (a1 + tx * c1) / d0, (tx * d0 - (a0 + a1) * centre) / d0,
        (b0 + ty * c0) / d0, (b1 + ty * c1) / d0, (ty * d0 - (b0 + b1) * centre) / d0,
        c0 / d0, c1 / d0,
    ], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT",
    )


def _motion_kernels(length: int = 7, directions: int = 8) -> tf.Tensor:
    """(length, length, 1, directions) line kernels: the smear of a head or camera moving during exposure."""
    import numpy as np

    kernels = np.zeros((length, length, 1, directions), np.float32)
    centre = (length - 1) / 2.0
    for index in range(directions):
        angle = math.pi * index / directions
        for step in np.linspace(-centre, centre, 4 * length):
            x = round(centre + step * math.cos(angle))
            y = round(centre + step * math.sin(angle))
            kernels[y, x, 0, index] = 1.0
        kernels[..., index] /= kernels[..., index].sum()
    return tf.constant(kernels)


def _photometric(images: tf.Tensor, config: AugmentConfig, seeds: _Seeds) -> tf.Tensor:
    batch = tf.shape(images)[0]

    def per_image(low, high):
        return _uniform(seeds, [batch, 1, 1, 1], low, high)

    gamma = per_image(*config.gamma_range)
    images = tf.pow(tf.clip_by_value(images, 1e-4, 1.0), gamma)
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    images = (images - mean) * per_image(*config.contrast_range) + mean
    images = images + per_image(-config.brightness, config.brightness)
    dark = _chance(seeds, batch, config.low_light_probability)
    images = images * (1.0 + dark * (per_image(*config.low_light_range) - 1.0))

    kernels = _motion_kernels()
    smeared = tf.nn.conv2d(tf.pad(images, [[0, 0], [3, 3], [3, 3], [0, 0]], mode="SYMMETRIC"), kernels, 1, "VALID")
    direction = tf.one_hot(tf.random.stateless_uniform([batch], seeds(), 0, kernels.shape[-1], tf.int32),
                           kernels.shape[-1])
    smeared = tf.reduce_sum(smeared * direction[:, None, None, :], axis=-1, keepdims=True)
    images = images + _chance(seeds, batch, config.motion_blur_probability) * (smeared - images)

    # Sensor noise, stronger in the dark frames (a webcam raises its gain there).
    noisy = tf.maximum(_chance(seeds, batch, config.noise_probability), dark)
    sigma = per_image(0.0, config.noise_stddev_max) * noisy
    images = images + tf.random.stateless_normal(tf.shape(images), seeds()) * sigma
    return tf.clip_by_value(images, 0.0, 1.0)


def _jpeg(images: tf.Tensor, config: AugmentConfig, seeds: _Seeds) -> tf.Tensor:
    """Re-encode a random subset at a random quality: the 8x8 blocks of streamed and saved video."""
    batch = tf.shape(images)[0]
    low, high = config.jpeg_quality_range
    quality = tf.random.stateless_uniform([batch], seeds(), low, high + 1, tf.int32)

    def encode(item):
        image, q = item
        return tf.image.adjust_jpeg_quality(image, q)

    compressed = tf.map_fn(encode, (images, quality), fn_output_signature=tf.float32)
    compressed = tf.ensure_shape(compressed, images.shape)
    return images + _chance(seeds, batch, config.jpeg_probability) * (compressed - images)


def _occlusions(images: tf.Tensor, config: AugmentConfig, seeds: _Seeds) -> tf.Tensor:
    shape = tf.shape(images)
    batch, size = shape[0], tf.cast(shape[1], tf.float32)
    coords = tf.range(size)
    # A square patch anywhere (hand, object), filled with a flat random grey.
    half = config.erase_size_fraction * size / 2.0
    centres = _uniform(seeds, [batch, 2], 0.0, size)
    inside_y = tf.abs(coords[None, :] - centres[:, 0:1]) < half
    inside_x = tf.abs(coords[None, :] - centres[:, 1:2]) < half
    box = tf.cast(tf.logical_and(inside_y[:, :, None], inside_x[:, None, :]), tf.float32)[..., None]
    erase = box * _chance(seeds, batch, config.erase_probability)
    images = images * (1.0 - erase) + _uniform(seeds, [batch, 1, 1, 1]) * erase
    # A dark band across the eyes (FER2013 and aligned crops put the eye line near 0.39 of the height).
    eye_line = _uniform(seeds, [batch, 1], 0.33, 0.45) * size
    band_half = _uniform(seeds, [batch, 1], 0.05, 0.1) * size
    band = tf.cast(tf.abs(coords[None, :] - eye_line) < band_half, tf.float32)[:, :, None, None]
    band = band * _chance(seeds, batch, config.glasses_probability)
    darkness = _uniform(seeds, [batch, 1, 1, 1], 0.0, 0.25)
    return images * (1.0 - band) + darkness * band


def augment_batch(images: tf.Tensor, seed: tf.Tensor, config: AugmentConfig = AugmentConfig()) -> tf.Tensor:
    """Randomly augment a float32 batch (N, H, W, 1) in [0, 1]; output has the same shape and range.

    `seed` is a (2,) integer tensor; the same seed always gives the same batch.
    """
    seeds = _Seeds(seed)
    images = _random_geometry(images, config, seeds)
    images = _photometric(images, config, seeds)
    images = _jpeg(images, config, seeds)
    return _occlusions(images, config, seeds)


# Share of each batch that is mixed with a partner (the rest stay whole faces, so the network still
# sees what it will classify).
MIX_PROBABILITY = 0.5


def _beta(seeds: _Seeds, shape, alpha: float) -> tf.Tensor:
    """Beta(alpha, alpha) draws as a ratio of two stateless gamma draws."""
    first = tf.random.stateless_gamma(shape, seeds(), alpha)
    second = tf.random.stateless_gamma(shape, seeds(), alpha)
    return first / tf.maximum(first + second, 1e-12)


def mix_pairs(images: tf.Tensor, targets: tf.Tensor, weights: tf.Tensor, seed: tf.Tensor,
              mixup: float = 0.0, cutmix: float = 0.0) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Mixup (blend two faces) or CutMix (paste a box of one face into another) within a batch.

    Each face is paired with its neighbour in the (already shuffled) batch; the targets and the
    class weights are mixed in the same proportion as the pixels. `mixup` and `cutmix` are the Beta
    parameters; 0 turns each off, and with both on each pair draws one of them. Stateless like
    `augment_batch`, so resumed runs see the same mixes.
    """
    if not mixup and not cutmix:
        return images, targets, weights
    seeds = _Seeds(seed, count=12)
    shape = tf.shape(images)
    batch, size = shape[0], tf.cast(shape[1], tf.float32)
    partner = tf.roll(tf.range(batch), shift=1, axis=0)
    mixed = tf.cast(_uniform(seeds, [batch]) < MIX_PROBABILITY, tf.float32)[:, None, None, None]
    # `keep`: per pixel, the share that stays this face's own (1 everywhere for faces left whole).
    keeps = []
    if mixup:
        keeps.append(_beta(seeds, [batch], mixup)[:, None, None, None] * tf.ones_like(images))
    if cutmix:
        # A box of area (1 - lam) of the image, centred anywhere, clipped to the frame.
        half = tf.sqrt(1.0 - _beta(seeds, [batch], cutmix)) * size / 2.0
        centres = _uniform(seeds, [batch, 2], 0.0, size)
        coords = tf.range(size) + 0.5
        inside_y = tf.abs(coords[None, :] - centres[:, 0:1]) < half[:, None]
        inside_x = tf.abs(coords[None, :] - centres[:, 1:2]) < half[:, None]
        box = tf.cast(tf.logical_and(inside_y[:, :, None], inside_x[:, None, :]), tf.float32)[..., None]
        keeps.append(1.0 - box)
    keep = keeps[0]
    if len(keeps) == 2:  # both on: each pair draws one
        use_cut = tf.cast(_uniform(seeds, [batch]) < 0.5, tf.float32)[:, None, None, None]
        keep = use_cut * keeps[1] + (1.0 - use_cut) * keeps[0]
    keep = 1.0 - mixed * (1.0 - keep)
    own = tf.reduce_mean(keep, axis=[1, 2, 3])
    images = images * keep + tf.gather(images, partner) * (1.0 - keep)
    targets = targets * own[:, None] + tf.gather(targets, partner) * (1.0 - own[:, None])
    weights = weights * own + tf.gather(weights, partner) * (1.0 - own)
    return images, targets, weights
