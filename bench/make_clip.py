"""Write a synthetic but realistic test video made from real face photos.

    python3 -m bench.make_clip --out /tmp/face512.mp4 [--size 512] [--seconds 10] [--faces 1]
    python3 -m bench.make_clip --out /tmp/faces2.mp4 --faces 2 --size 640x480
    python3 -m bench.make_clip --out /tmp/faces4.mp4 --faces 4          # 1280x720, a group call

One face: the public-domain astronaut portrait (tests/data/astronaut.png), enlarged so the
face spans about a third of the frame, drifting, zooming and rolling smoothly (+-20 degrees),
the way a head moves in front of a webcam. Two faces: the built-in demo's frames
(arfilter.io.sources.demo_scene.DemoRenderer, 640x480), so the benches and the demo show the same scene.
Both are mp4v at 30 frames/s and a pure function of the frame index, so runs are repeatable.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from arfilter.vision.geometry import FaceGeometry, named_point
from bench import PHOTO, PHOTO_LANDMARKS

CLIP_FPS = 30.0
ONE_FACE_DEFAULT_SIZE = (512, 512)
DEMO_SIZE = (640, 480)  # what DemoRenderer draws

# Face width (cheek to cheek) as a fraction of the frame's short side at the mean zoom:
# a face at arm's length from a webcam.
FACE_WIDTH_FRACTION = 0.34
ROLL_AMPLITUDE_DEG = 20.0
ZOOM_AMPLITUDE = 0.15  # the scale swings by +-15 %
PAN_AMPLITUDE = (0.10, 0.05)  # of the frame width / height


@dataclass(frozen=True)
class OneFacePose:
    """Where the photo's face is drawn in one frame.

    `roll_deg` is the roll added to the photo's own (positive = clockwise on screen, the
    project convention); the face's true roll is `photo_roll_deg + roll_deg`.
    """

    center: tuple[float, float]
    scale: float
    roll_deg: float


def parse_size(text: str) -> tuple[int, int]:
    """'512' -> (512, 512); '640x480' -> (640, 480) as (width, height)."""
    parts = text.lower().split("x")
    try:
        values = [int(part) for part in parts]
    except ValueError:
        values = []
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or min(values) < 64:
        raise argparse.ArgumentTypeError(f"size must be N or WxH with sides of at least 64 pixels, got {text!r}")
    return values[0], values[1]


class OneFaceRenderer:
    """Frames of the astronaut photo moving like a head in front of a webcam."""

    def __init__(self, size: tuple[int, int] = ONE_FACE_DEFAULT_SIZE, fps: float = CLIP_FPS) -> None:
        data = np.fromfile(str(PHOTO), np.uint8) if PHOTO.is_file() else None
        photo = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None else None
        if photo is None or not PHOTO_LANDMARKS.is_file():
            raise FileNotFoundError(f"{PHOTO} or {PHOTO_LANDMARKS} is missing; restore tests/data from git")
        self.photo = cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)
        landmarks = np.load(PHOTO_LANDMARKS)
        geometry = FaceGeometry.from_landmarks(landmarks)
        # Turn and zoom about the middle of the face (between the eyes and the mouth) so the
        # whole face stays in view at every pose.
        self.pivot = (geometry.eye_center + named_point(landmarks, "mouth_center")) / 2.0
        self.photo_roll_deg = geometry.roll_deg
        self.size = size
        self.fps = fps
        self.base_scale = FACE_WIDTH_FRACTION * min(size) / geometry.face_width

    def pose(self, index: int) -> OneFacePose:
        """Smooth, incommensurate sinusoids: roll every 4 s, zoom every 5 s, pan every 6 s / 3.5 s."""
        t = index / self.fps
        width, height = self.size
        return OneFacePose(
            center=(width * (0.5 + PAN_AMPLITUDE[0] * math.sin(2 * math.pi * t / 6.0)),
                    height * (0.48 + PAN_AMPLITUDE[1] * math.sin(2 * math.pi * t / 3.5 + 0.5))),
            scale=self.base_scale * (1.0 + ZOOM_AMPLITUDE * math.sin(2 * math.pi * t / 5.0 + 1.0)),
            roll_deg=ROLL_AMPLITUDE_DEG * math.sin(2 * math.pi * t / 4.0),
        )

    def true_roll_deg(self, index: int) -> float:
        return self.photo_roll_deg + self.pose(index).roll_deg

    def render(self, index: int) -> np.ndarray:
        """Frame `index` as RGB uint8 (height, width, 3)."""
        pose = self.pose(index)
        # getRotationMatrix2D turns counter-clockwise on screen for positive angles.
        matrix = cv2.getRotationMatrix2D((float(self.pivot[0]), float(self.pivot[1])), -pose.roll_deg, pose.scale)
        matrix[:, 2] += np.array(pose.center) - self.pivot
        # Replicated borders: reflecting would mirror eyes into the corners at large rolls.
        return cv2.warpAffine(self.photo, matrix, self.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class TwoFaceRenderer:
    """The demo's two moving heads at 640x480 (arfilter.io.sources.demo_scene.DemoRenderer)."""

    def __init__(self) -> None:
        from arfilter.io.sources.demo_scene import DemoRenderer

        self._renderer = DemoRenderer()
        self.size = DEMO_SIZE

    def render(self, index: int) -> np.ndarray:
        return self._renderer.render(index)


class FourFaceRenderer:
    """Four astronauts in a 1280x720 frame, each moving like a head in front of a webcam in its own
    quarter, out of step with the others (two of them mirrored): a group video call."""

    SIZE = (1280, 720)

    def __init__(self) -> None:
        self.size = self.SIZE
        self._quarter = OneFaceRenderer((self.SIZE[0] // 2, self.SIZE[1] // 2))

    def render(self, index: int) -> np.ndarray:
        tiles = [self._quarter.render(index + offset) for offset in (0, 37, 74, 111)]
        tiles[1], tiles[3] = tiles[1][:, ::-1], tiles[3][:, ::-1]
        return np.vstack([np.hstack(tiles[:2]), np.hstack(tiles[2:])])


def make_renderer(faces: int, size: tuple[int, int] | None = None) -> OneFaceRenderer | TwoFaceRenderer | FourFaceRenderer:
    if faces == 4:
        if size is not None and size != FourFaceRenderer.SIZE:
            raise ValueError("--faces 4 renders 1280x720 frames; leave --size out")
        return FourFaceRenderer()
    if faces == 1:
        return OneFaceRenderer(size or ONE_FACE_DEFAULT_SIZE)
    if faces == 2:
        if size is not None and size != DEMO_SIZE:
            raise ValueError(f"--faces 2 renders the demo's {DEMO_SIZE[0]}x{DEMO_SIZE[1]} frames; "
                             f"pass --size {DEMO_SIZE[0]}x{DEMO_SIZE[1]} or leave --size out")
        return TwoFaceRenderer()
    raise ValueError(f"--faces must be 1, 2 or 4, got {faces}")


def write_clip(path: Path, *, faces: int = 1, size: tuple[int, int] | None = None, seconds: float = 10.0,
               fps: float = CLIP_FPS) -> int:
    """Write the clip as mp4v and return the number of frames written."""
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    renderer = make_renderer(faces, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, renderer.size)
    if not writer.isOpened():
        raise OSError(f"cannot write the video {path}; pass a writable --out path ending in .mp4")
    frames = max(1, round(seconds * fps))
    try:
        for index in range(frames):
            writer.write(cv2.cvtColor(renderer.render(index), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the .mp4 file to write")
    parser.add_argument("--size", type=parse_size, help="N or WxH (default 512 for one face, 640x480 for two)")
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length (default 10)")
    parser.add_argument("--faces", type=int, choices=(1, 2, 4), default=1,
                        help="1: the astronaut photo; 2: the demo scene; 4: four astronauts at 1280x720")
    arguments = parser.parse_args()
    try:
        frames = write_clip(arguments.out, faces=arguments.faces, size=arguments.size, seconds=arguments.seconds)
    except (OSError, ValueError) as error:
        parser.exit(1, f"make_clip: {error}\n")
    print(f"wrote {arguments.out}: {frames} frames at {CLIP_FPS:g} frames/s, {arguments.faces} face(s)")


if __name__ == "__main__":
    main()
