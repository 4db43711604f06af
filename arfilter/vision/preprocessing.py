"""The one preprocessing path from a face image to the emotion model's input.

Training, evaluation and the live app all call `preprocess_faces`, and the model metadata
records `PREPROCESSING`, so the model never sees pixels prepared differently from the ones
it was trained on. Per-image contrast normalisation lives inside the model graph itself,
which keeps this function trivial and identical everywhere.

The app additionally cuts faces out of frames with `align_face_crop`, which levels the eye
line and frames the face the way FER2013's 48x48 crops are framed.
"""

from __future__ import annotations

import cv2
import numpy as np

INPUT_SIZE = 48

# Where FER2013 puts the eyes, as fractions of the 48x48 crop: measured by running the
# face-landmark model over FER2013 training images (see training/measure_framing.py).
EYE_LINE_Y = 0.39
INTEROCULAR_FRACTION = 0.37

PREPROCESSING: dict[str, object] = {
    "input_size": INPUT_SIZE,
    "color": "grayscale (ITU-R BT.601 luma, cv2.COLOR_RGB2GRAY)",
    "resize": "cv2.INTER_AREA",
    "scale": "pixel / 255.0 -> float32 in [0, 1]",
    "standardize": "per image: (x - mean) / sqrt(variance + 1e-4); inside the Keras model, before the network for "
                   "the exported .tflite graphs (they start after it, so int8 quantisation never sees it)",
    "alignment": {"eye_line_y": EYE_LINE_Y, "interocular_fraction": INTEROCULAR_FRACTION},
}


def preprocess_faces(faces: np.ndarray | list[np.ndarray], size: int = INPUT_SIZE) -> np.ndarray:
    """Turn face crops into a float32 batch of shape (N, size, size, 1) in [0, 1].

    Accepts grayscale (H, W) or RGB (H, W, 3) uint8 crops of any size, or an already
    stacked (N, H, W) / (N, H, W, 3) array. `size` is the model's input size (its metadata).
    """
    batch = []
    for face in faces:
        face = np.asarray(face)
        if face.ndim == 3 and face.shape[2] == 3:
            face = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
        elif face.ndim == 3 and face.shape[2] == 1:
            face = face[:, :, 0]
        elif face.ndim != 2:
            raise ValueError(f"a face crop must be (H, W) grayscale or (H, W, 3) RGB, got shape {face.shape}")
        if face.shape != (size, size):
            face = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
        batch.append(face)
    if not batch:
        return np.zeros((0, size, size, 1), np.float32)
    return (np.stack(batch).astype(np.float32) / 255.0)[..., None]


STANDARDIZE_EPSILON = 1e-4  # the same constant as training.model.PerImageStandardization


def standardize_faces(faces: np.ndarray) -> np.ndarray:
    """Per-image zero mean and unit variance, what the exported .tflite graphs expect as input.

    Done in NumPy for the exported graphs because it quantises badly: inside an int8 graph it
    cost 2.8 accuracy points on val, outside it 0.25.
    """
    mean = faces.mean(axis=(1, 2, 3), keepdims=True)
    variance = np.square(faces - mean).mean(axis=(1, 2, 3), keepdims=True)
    return ((faces - mean) / np.sqrt(variance + STANDARDIZE_EPSILON)).astype(np.float32)


def align_face_crop(image_rgb: np.ndarray, left_eye: np.ndarray, right_eye: np.ndarray, size: int = INPUT_SIZE,
                    eye_line_y: float = EYE_LINE_Y, interocular_fraction: float = INTEROCULAR_FRACTION) -> np.ndarray:
    """Cut a size x size grayscale face out of a frame, eye line level, framed like FER2013.

    One affine warp does rotation, scale and crop together, so it costs the same for a
    face of any size; `left_eye`/`right_eye` are image-left/right eye centres in pixels.
    `size`, `eye_line_y` and `interocular_fraction` come from the model's metadata.
    """
    left_eye = np.asarray(left_eye, np.float64)
    right_eye = np.asarray(right_eye, np.float64)
    delta = right_eye - left_eye
    interocular = float(np.hypot(*delta))
    if interocular < 1e-3:
        raise ValueError("eye centres coincide; cannot align the face")
    # Warp at `oversample` times the target size, then area-average down: a plain bilinear warp
    # straight to 48x48 would alias badly for large faces (scale 0.2 and below).
    oversample = int(np.clip(round(interocular / (interocular_fraction * size)), 1, 4))
    warp_size = size * oversample
    scale = interocular_fraction * warp_size / interocular
    cos, sin = delta / interocular * scale
    eye_center = (left_eye + right_eye) / 2.0
    target = np.array([warp_size / 2.0, eye_line_y * warp_size])
    # Rotate by -roll and scale about the eye centre, then move the eye centre to `target`.
    matrix = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    matrix[:, 2] = target - matrix[:, :2] @ eye_center
    # Warp first, then convert only the small crop to gray: converting the whole frame per face costs more.
    crop = cv2.warpAffine(image_rgb, matrix, (warp_size, warp_size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    if oversample > 1:
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    return crop
