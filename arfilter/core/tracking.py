"""Multi-face tracking: the detector finds faces, the landmark model follows them.

Works like MediaPipe's face-mesh graph: once a face has landmarks, the next frame's crop
comes from them and the detector is skipped, since the 468-point model is both the tracker
and the judge of whether the face is still there (its face-presence score). The detector
runs on every frame while no face is tracked, every `detect_every_n_frames` frames while
fewer than `max_faces` faces are tracked (to pick up newcomers) and at once when a track is
lost (to pick up a face that moved too fast for its crop). Cost per frame is therefore
`max_faces` landmark runs at most plus, now and then, one detector run and two landmark runs
per newly found face (at most 2 x max_faces), however many faces are in view.

A hard scene cut ends every track: the landmark model would otherwise follow whatever face
lands near the old crop and hand it the old id (and, downstream, the old label and
smoothing). `SceneCutDetector` compares tiny greyscale thumbnails of consecutive frames.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from arfilter.core.types import TrackedFace
from arfilter.lifecycle import Closeable
from arfilter.vision.detector import Detection, FaceDetector, FaceDetectorOptions
from arfilter.vision.landmarker import (
    FaceLandmarker,
    FaceLandmarkerOptions,
    FaceRegion,
    region_from_detection,
    region_from_landmarks,
)


@dataclass(frozen=True)
class TrackerOptions:
    """What the tracker trades.

    max_faces: faces tracked at once; each costs one landmark run (~1-1.5 ms) per frame.
        When more faces are in view the largest are kept, and the detector stops running
        while all slots are full.
    detect_every_n_frames: how often (in frames) the detector looks for new faces while a
        slot is free. Lower finds newcomers sooner; each run costs about one landmark run.
    min_landmark_score: face-presence score below which a track is dropped (MediaPipe: 0.5).
        Higher drops tracks sooner on occlusion or blur; lower risks landmarks on background.
    match_iou_threshold: overlap of two face crops above which they are the same face: a new
        detection overlapping a track is not added again, and of two tracks that converged on
        one face only the older stays. MediaPipe's association uses 0.5.
    scene_cut_change: mean absolute difference (0..1) between consecutive 32x32 greyscale
        thumbnails above which the frame may be a cut. Lower catches soft cuts, but fast head
        motion close to the camera then comes near it (measured on the face-videos clips:
        motion and blur up to 0.08, hard cuts from 0.11).
    scene_cut_content: how different the two thumbnails' content must also be for a cut:
        grey-level histogram distance (0..1) above this, or thumbnail correlation below
        1 - this. Motion moves pixels but keeps the histogram and much of the correlation;
        a cut changes both. 0 turns the check off (any large change is a cut).
    follow_lanes: faces followed in parallel, each lane with its own landmark interpreter (LiteRT
        releases the GIL while it runs a model, so lanes use separate cores). 2 lets four faces
        cost about two landmark runs of wall time on a 2-core machine; 1 follows every face on
        the calling thread. Each lane costs one more copy of the landmark model (~3 MB).
    count_untracked_every_n_frames: with every slot full, how often (in frames) the detector
        still looks at the frame, only to count the faces left out (the HUD's "2 faces not
        tracked (max 1)" and the JSON's untracked_faces). One detector run (~1 ms) per this
        many frames; 0 never counts them.
    detector, landmarker: the two face models' own options (model variant, threads).
    """

    max_faces: int = 4
    detect_every_n_frames: int = 5
    min_landmark_score: float = 0.5
    match_iou_threshold: float = 0.5
    scene_cut_change: float = 0.09
    scene_cut_content: float = 0.15
    follow_lanes: int = 2
    count_untracked_every_n_frames: int = 30
    detector: FaceDetectorOptions = field(default_factory=FaceDetectorOptions)
    landmarker: FaceLandmarkerOptions = field(default_factory=FaceLandmarkerOptions)

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {self.max_faces}")
        if self.follow_lanes < 1:
            raise ValueError(f"follow_lanes must be at least 1, got {self.follow_lanes}")
        if self.count_untracked_every_n_frames < 0:
            raise ValueError(f"count_untracked_every_n_frames must be 0 or more, got {self.count_untracked_every_n_frames}")
        if self.detect_every_n_frames < 1:
            raise ValueError(f"detect_every_n_frames must be at least 1, got {self.detect_every_n_frames}")
        if not 0.0 <= self.min_landmark_score < 1.0:
            raise ValueError(f"min_landmark_score must be in [0, 1), got {self.min_landmark_score}")
        if not 0.0 < self.match_iou_threshold < 1.0:
            raise ValueError(f"match_iou_threshold must be between 0 and 1, got {self.match_iou_threshold}")
        if not 0.0 < self.scene_cut_change <= 1.0 or not 0.0 <= self.scene_cut_content <= 1.0:
            raise ValueError("scene_cut_change must be in (0, 1] and scene_cut_content in [0, 1], "
                             f"got {self.scene_cut_change} and {self.scene_cut_content}")


class SceneCutDetector:
    """Tells whether a frame starts a new shot, from tiny thumbnails (about 0.1 ms a frame)."""

    THUMBNAIL_SIDE = 32
    HISTOGRAM_BINS = 16

    def __init__(self, change: float, content: float) -> None:
        self.change = change
        self.content = content
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        self._previous = None

    def is_cut(self, image_rgb: np.ndarray) -> bool:
        """True when `image_rgb` is unrelated to the frame before it (never for the first frame)."""
        small = cv2.resize(image_rgb, (self.THUMBNAIL_SIDE, self.THUMBNAIL_SIDE), interpolation=cv2.INTER_AREA)
        thumbnail = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        previous, self._previous = self._previous, thumbnail
        if previous is None or float(np.abs(thumbnail - previous).mean()) <= self.change:
            return False
        if self.content <= 0.0:
            return True
        bins = np.linspace(0.0, 1.0, self.HISTOGRAM_BINS + 1)
        histograms = [np.histogram(image, bins)[0] / image.size for image in (previous, thumbnail)]
        histogram_distance = 0.5 * float(np.abs(histograms[0] - histograms[1]).sum())
        centred = [(image - image.mean()) / (image.std() + 1e-3) for image in (previous, thumbnail)]
        correlation = float((centred[0] * centred[1]).mean())
        return histogram_distance > self.content or correlation < 1.0 - self.content


@dataclass
class _Track:
    track_id: int
    landmarks: np.ndarray
    score: float
    region: FaceRegion  # where to look in the next frame, from `landmarks`


class FaceTracker(Closeable):
    """Finds and follows up to `max_faces` faces, giving each a stable id (1, 2, ... never reused)."""

    def __init__(self, detector: FaceDetector, landmarker: FaceLandmarker, options: TrackerOptions | None = None,
                 *, more_lanes: Sequence[FaceLandmarker] = ()) -> None:
        """`more_lanes`: further landmarkers (own interpreters) that follow faces in parallel threads."""
        self.detector = detector
        self.landmarker = landmarker
        self._lanes = [landmarker, *more_lanes]
        self._pool = ThreadPoolExecutor(len(more_lanes), thread_name_prefix="arfilter-faces") if more_lanes else None
        self.options = options or TrackerOptions()
        self._next_track_id = 1
        self._tracks: list[_Track] = []
        self._frames_since_detection = 0
        # Boxes (x, y, w, h) of faces the detector saw but no slot was free for, as of its last run.
        self.untracked: tuple[tuple[int, int, int, int], ...] = ()
        self._cuts = SceneCutDetector(self.options.scene_cut_change, self.options.scene_cut_content)
        self.scene_cuts = 0  # cuts seen since creation, for reports

    @classmethod
    def create(cls, options: TrackerOptions | None = None) -> FaceTracker:
        """Tracker with both face models shipped in the package, configured by `options`."""
        options = options or TrackerOptions()
        lanes = [FaceLandmarker.create(options.landmarker) for _ in range(options.follow_lanes)]
        return cls(FaceDetector.create(options.detector), lanes[0], options, more_lanes=lanes[1:])

    def close(self) -> None:
        """Release both face models (and the lanes' threads)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.detector.close()
        for landmarker in self._lanes:
            landmarker.close()

    def reset(self) -> None:
        """Forget all tracks (the next frame is detected from scratch); ids keep counting up."""
        self._tracks = []
        self.untracked = ()
        self._frames_since_detection = 0
        self._cuts.reset()

    def mirror(self, frame_width: int) -> None:
        """The frames will be flipped left to right from now on: flip every track's crop with
        them, so each face keeps its id instead of being lost and found again as a new one."""
        for track in self._tracks:
            region = track.region
            track.region = FaceRegion((frame_width - 1 - region.center[0], region.center[1]), region.size,
                                      -region.angle_deg)
            track.landmarks = track.landmarks.copy()
            track.landmarks[:, 0] = frame_width - 1 - track.landmarks[:, 0]
        self.untracked = tuple((frame_width - x - w, y, w, h) for x, y, w, h in self.untracked)
        self._cuts.reset()  # the flipped frame is not a scene cut

    def restart_ids(self) -> None:
        """`reset`, and number faces from 1 again: for a stream from someone else (a server's
        next caller), who must not learn from the ids how many faces others sent."""
        self.reset()
        self._next_track_id = 1

    def update(self, image_rgb: np.ndarray, is_still: bool = False) -> list[TrackedFace]:
        """Faces in this frame, ordered by track id.

        is_still: the frame is unrelated to the previous one (an image of a folder), so
        nothing is carried over and every face gets a new id. A scene cut (see
        SceneCutDetector) does the same within a video.
        """
        if is_still:
            self.reset()
        elif self._cuts.is_cut(image_rgb):
            self.scene_cuts += 1
            self._tracks = []
        tracks, lost = self._follow_tracks(image_rgb)
        self._frames_since_detection += 1
        wants_new_faces = len(tracks) < self.options.max_faces and (
            not tracks or self._frames_since_detection >= self.options.detect_every_n_frames
        )
        count_every = self.options.count_untracked_every_n_frames
        if lost or wants_new_faces:
            tracks = self._add_detected_faces(image_rgb, tracks, lost)
            self._frames_since_detection = 0
        elif count_every and self._frames_since_detection >= count_every:
            self._count_untracked(self.detector.infer(image_rgb), tracks)
            self._frames_since_detection = 0
        if len(tracks) < self.options.max_faces:
            self.untracked = ()  # a free slot: every face the detector sees gets tracked
        self._tracks = tracks
        return [
            TrackedFace(track_id=track.track_id, landmarks=track.landmarks, landmark_score=track.score)
            for track in sorted(tracks, key=lambda track: track.track_id)
        ]

    def _locate(self, image_rgb: np.ndarray, track_id: int, region: FaceRegion,
                landmarker: FaceLandmarker | None = None) -> _Track | None:
        """Landmarks inside `region`, or None when the landmark model sees no face there."""
        landmarks, score = (landmarker or self.landmarker).infer(image_rgb, region)
        if score < self.options.min_landmark_score:
            return None
        return _Track(track_id=track_id, landmarks=landmarks, score=score, region=region_from_landmarks(landmarks))

    def _overlaps(self, region: FaceRegion, tracks: list[_Track]) -> _Track | None:
        return next((track for track in tracks if region.iou(track.region) > self.options.match_iou_threshold), None)

    def _follow_tracks(self, image_rgb: np.ndarray) -> tuple[list[_Track], list[_Track]]:
        """Move every track to this frame; returns (kept, lost).

        Oldest first, so that when two tracks have slid onto the same face the older id
        survives and the duplicate counts as lost.
        """
        kept: list[_Track] = []
        lost: list[_Track] = []
        ordered = sorted(self._tracks, key=lambda track: track.track_id)
        for track, followed in zip(ordered, self._locate_all(image_rgb, ordered)):
            if followed is None or self._overlaps(followed.region, kept) is not None:
                lost.append(track)
            else:
                kept.append(followed)
        return kept, lost

    def _locate_all(self, image_rgb: np.ndarray, tracks: list[_Track]) -> list[_Track | None]:
        """`_locate` for every track, spread over the lanes: lane 0 on this thread, the others in the pool."""
        if self._pool is None or len(tracks) < 2:
            return [self._locate(image_rgb, track.track_id, track.region) for track in tracks]
        lanes = len(self._lanes)

        def follow(lane: int) -> list[_Track | None]:
            return [self._locate(image_rgb, track.track_id, track.region, self._lanes[lane]) for track in tracks[lane::lanes]]

        others = [self._pool.submit(follow, lane) for lane in range(1, min(lanes, len(tracks)))]
        by_lane = [follow(0), *(future.result() for future in others)]
        located: list[_Track | None] = [None] * len(tracks)
        for lane, results in enumerate(by_lane):
            located[lane::lanes] = results
        return located

    def _add_detected_faces(self, image_rgb: np.ndarray, tracks: list[_Track], lost: list[_Track]) -> list[_Track]:
        """Start tracks for detected faces that are not tracked yet, largest first, up to max_faces.

        A detection less than one crop size (about 1.5 face widths) away from a track lost in
        this frame takes over its id: the face moved too fast for its crop but is the same face.
        """
        tracks = list(tracks)
        detections = sorted(self.detector.infer(image_rgb), key=lambda detection: -detection.box[2] * detection.box[3])
        # False detections the mesh rejects cost landmark runs too; cap the tries per frame.
        tries_left = self.options.max_faces
        for detection in detections:
            if len(tracks) >= self.options.max_faces or tries_left == 0:
                break
            region = region_from_detection(detection)
            if self._overlaps(region, tracks) is not None:
                continue
            tries_left -= 1
            previous = next(
                (track for track in lost if math.dist(track.region.center, region.center) < track.region.size), None
            )
            track_id = previous.track_id if previous is not None else self._next_track_id
            track = self._locate(image_rgb, track_id, region)
            if track is not None:
                # The detector's eye keypoints are only good to ~5 degrees and the mesh leans
                # towards its crop's angle, so a second pass from the mesh's own crop gives a
                # new face (and every face of a still image) the roll tracking would reach.
                track = self._locate(image_rgb, track_id, track.region)
            if track is None or self._overlaps(track.region, tracks) is not None:
                continue
            if previous is not None:
                lost.remove(previous)
            else:
                self._next_track_id += 1
            tracks.append(track)
        self._count_untracked(detections, tracks)
        return tracks

    def _count_untracked(self, detections: list[Detection], tracks: list[_Track]) -> None:
        """Note the detections that no track covers (the slots were full)."""
        self.untracked = tuple(
            (round(x), round(y), round(w), round(h)) for detection in detections
            if self._overlaps(region_from_detection(detection), tracks) is None
            for x, y, w, h in (detection.box,))
