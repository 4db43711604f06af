"""Shared fakes and small builders for the tests: what tests must not need (a camera, a model's
opinion about a face, the real packs). Import them with `from tests.fakes import ...`."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

from arfilter.core.types import FaceResult, Frame, FrameResult
from arfilter.io.sources.camera import ClosedCapture
from arfilter.render.background import BackgroundOptions
from arfilter.render.compose import Composer
from arfilter.vision.geometry import FaceGeometry, landmark_box
from arfilter.vision.labels import EMOTION_LABELS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_FER2013 = PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013"
RED_BGR = (0, 0, 255)
# The built-in packs, in the order they load and `F` cycles through them.
BUILTIN_PACK_NAMES = ("emoji", "facepaint", "masquerade", "party", "reactions", "shades")


def asymmetric_bgr(height: int = 48, width: int = 64, value: int = 0) -> np.ndarray:
    """A BGR image that is red on its left half, so colour order and mirroring are visible."""
    image = np.full((height, width, 3), value, np.uint8)
    image[:, : width // 2] = RED_BGR
    return image


def make_face(landmarks: np.ndarray | None = None, label: str = "happy", *, track_id: int = 1,
              box: tuple[int, int, int, int] | None = None, confidence: float = 0.7,
              labels: tuple[str, ...] = EMOTION_LABELS, previous_label: str | None = None,
              transition: float = 1.0, expressions: frozenset[str] = frozenset()) -> FaceResult:
    """A FaceResult as the pipeline makes it: `label` at `confidence`, the rest shared out evenly,
    geometry measured from `landmarks` (all zeros when not given), `expressions` on."""
    landmarks = np.zeros((468, 3), np.float32) if landmarks is None else landmarks
    probabilities = np.full(len(labels), (1.0 - confidence) / (len(labels) - 1), np.float32)
    if label in labels:
        probabilities[labels.index(label)] = confidence
    return FaceResult(track_id=track_id, landmarks=landmarks, geometry=FaceGeometry.from_landmarks(landmarks),
                      box=landmark_box(landmarks) if box is None else box, probabilities=probabilities, labels=labels,
                      label=label, confidence=confidence, previous_label=previous_label, transition=transition,
                      expressions=expressions)


class FakeCamera:
    """Delivers frames (about 200 fps) until `fail_after` frames, then fails for good."""

    def __init__(self, rig: FakeCameraRig, fail_after: int | None) -> None:
        self.rig = rig
        self.remaining = fail_after

    def isOpened(self) -> bool:  # noqa: N802
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(0.005)
        if self.remaining == 0:
            self.rig.refuse_opens = self.rig.outage_opens
            return False, None
        if self.remaining is not None:
            self.remaining -= 1
        return True, asymmetric_bgr()

    def get(self, prop_id: int) -> float:
        return 30.0 if prop_id == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.rig.released += 1


class FakeCameraRig:
    """An injectable camera opener: the first camera fails after `fail_after` frames, then
    the next `outage_opens` attempts to reopen fail, then a camera that never fails returns."""

    def __init__(self, fail_after: int | None = None, outage_opens: int = 2, present: tuple[int | str, ...] = (0,)) -> None:
        self.fail_after = fail_after
        self.outage_opens = outage_opens
        self.present = present
        self.refuse_opens = 0
        self.opens = 0
        self.released = 0
        self.targets: list[int | str] = []
        self.lock = threading.Lock()

    def __call__(self, target: int | str) -> FakeCamera | ClosedCapture:
        with self.lock:
            self.opens += 1
            self.targets.append(target)
            if target not in self.present or self.refuse_opens > 0:
                self.refuse_opens = max(0, self.refuse_opens - 1)
                return ClosedCapture()
            fail_after, self.fail_after = self.fail_after, None
            return FakeCamera(self, fail_after)


class FakePacks:
    """Stands in for arfilter.render.packs.PackSet: draws a green box around every face; counts its drawings."""

    def __init__(self, names: tuple[str, ...] = ("emoji", "party")) -> None:
        self.names = list(names)
        self.current = self.names[0]
        self.initial = self.current
        self.errors: list[str] = []
        self.renders = 0

    def next(self) -> str:
        self.current = self.names[(self.names.index(self.current) + 1) % len(self.names)]
        return self.current

    def select(self, name: str) -> None:
        self.current = name

    def prop_boxes(self, result: FrameResult) -> list[tuple[int, int, int, int]]:
        return []  # the green boxes are the faces' own

    def render(self, result: FrameResult) -> np.ndarray:
        self.renders += 1
        image = result.frame.image.copy()
        for face in result.faces:
            x, y, w, h = face.box
            cv2.rectangle(image, (x, y), (x + w, y + h), (0, 255, 0), 2)
        return image


class FakeSegmenter:
    """Stands in for SelfieSegmenter: the left half of every frame is the person (at a 16x9 'model resolution')."""

    def __init__(self) -> None:
        self.calls = 0
        self.mask = np.zeros((9, 16), np.float32)
        self.mask[:, :8] = 1.0

    def segment(self, image_rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.mask.copy()


class OneFaceLens:
    """Stands in for arfilter.apps.lens.Lens: one face at `box` in every frame, drawn by a real composer
    over FakePacks; records what it was asked."""

    def __init__(self, box: tuple[int, int, int, int] = (40, 60, 90, 110), confidence: float = 0.7) -> None:
        self.box = box
        self.confidence = confidence
        self.packs = FakePacks()
        self.composer = Composer(self.packs)  # type: ignore[arg-type]
        self.initial_background = BackgroundOptions()
        self.labels = EMOTION_LABELS
        self.processed: list[Frame] = []
        self.resets = 0
        self.calibrated: set[int] = set()

    @property
    def pipeline(self) -> OneFaceLens:
        """The lens is its own pipeline: what the window asks of the pipeline (calibration) is here too."""
        return self

    def calibrate(self, track_id: int) -> bool:
        self.calibrated.add(track_id)
        return True

    def clear_calibration(self, track_id: int) -> bool:
        had = track_id in self.calibrated
        self.calibrated.discard(track_id)
        return had

    @property
    def background(self) -> BackgroundOptions:
        return self.composer.background_options

    def set_background(self, options: BackgroundOptions) -> None:
        self.composer.set_background(options, FakeSegmenter)  # type: ignore[arg-type]

    def render(self, result: FrameResult) -> np.ndarray:
        return self.composer.lens(result)

    def process(self, frame: Frame) -> FrameResult:
        self.processed.append(frame)
        face = make_face(label="happy", box=self.box, confidence=self.confidence)
        return FrameResult(frame=frame, faces=[dataclasses.replace(face, calibrated=face.track_id in self.calibrated)])

    def reset(self) -> None:
        self.resets += 1

    def mirror(self, frame_width: int) -> None:
        self.mirrors = getattr(self, "mirrors", 0) + 1

    def settle(self, result: FrameResult) -> FrameResult:
        return result


class FakeVirtualCameraBackend:
    """A pyvirtualcam backend that keeps what it is sent; class attributes steer it from the test."""

    opened: ClassVar[list[FakeVirtualCameraBackend]] = []
    fail_open: str | None = None  # the error message opening raises, if any
    fail_send: str | None = None

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw) -> None:
        if FakeVirtualCameraBackend.fail_open is not None:
            raise RuntimeError(FakeVirtualCameraBackend.fail_open)
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self.frames: list[np.ndarray] = []
        self.closed = False
        FakeVirtualCameraBackend.opened.append(self)

    def send(self, frame: np.ndarray) -> None:
        if FakeVirtualCameraBackend.fail_send is not None:
            raise RuntimeError(FakeVirtualCameraBackend.fail_send)
        self.frames.append(frame.reshape(self.height, self.width, 3).copy())

    def close(self) -> None:
        self.closed = True

    def device(self) -> str:
        return "/dev/video-fake"

    def native_fourcc(self) -> int | None:
        return None
