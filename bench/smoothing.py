"""Label smoothing: how steady the shown label is, and how fast it follows a real change.

    python3 -m bench.smoothing [--source clip.mp4] [--fer-dir ../shared/datasets/fer2013] [--json out.json]

(a) Steady face: the real pipeline on the one-face clip (moving head, constant expression;
    made with bench.make_clip unless --source is given). Counts switches of the shown label
    per 5 s of video, next to the switches of the raw, unsmoothed prediction.
(b) Reaction time on real faces: the FER2013 validation face the model most clearly calls
    'happy' and the one it most clearly calls 'surprise' or 'neutral', each enlarged into a
    frame, are played 3 s each at 30 frames/s through the pipeline. Reports the delay between
    the cut and the shown label switching (and the end of its pop). Skipped, with a
    message, when the data set is absent or the model does not tell the two faces apart.
(c) The same on synthetic probability streams through SmoothingBank: clean and soft cuts at
    15/30/60 frames/s, and a noisy steady stream whose two top labels are close.
Targets: <= 1 switch per 5 s on a steady face; the change visible within 0.5 s (issue 12).
"""

from __future__ import annotations

import argparse
import itertools
import math
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from arfilter.core.pipeline import Pipeline, PipelineOptions
from arfilter.core.smoothing import LabelState, SmoothingBank, SmoothingOptions
from arfilter.core.types import Frame
from arfilter.io.sources import open_source
from arfilter.vision.emotion import EmotionClassifier
from arfilter.vision.labels import EMOTION_LABELS
from bench import REPO_ROOT, describe_context, format_table, machine_context, verdict, write_json

TARGET_SWITCHES_PER_5S = 1.0
TARGET_REACTION_S = 0.5
FPS = 30.0
SEGMENT_S = 3.0
DEFAULT_FER_DIR = REPO_ROOT.parent / "shared" / "datasets" / "fer2013"
# FER2013 faces (48x48, cropped tight) enlarged to FACE_PX inside a FRAME_PX square of mid
# grey: the face detector needs some background around a face to find it.
FACE_PX = 240
FRAME_PX = 480
FIRST_LABEL = "happy"
# Per-frame jitter of the synthetic noisy streams: Dirichlet concentration 30 scatters a 0.5
# probability by about +-0.09 from frame to frame.
NOISE_CONCENTRATION = 30.0
STEADY_SYNTHETIC_S = 300.0
SECOND_LABELS = ("surprise", "neutral")


class RecordingClassifier:
    """Stands in for the pipeline's classifier and keeps the raw probabilities of the last frame,
    so the unsmoothed prediction can be compared with the label shown."""

    def __init__(self, classifier: EmotionClassifier) -> None:
        self._classifier = classifier
        self.labels = classifier.labels
        self.last = np.zeros((0, len(classifier.labels)), np.float32)

    def infer(self, image_rgb: np.ndarray, landmarks: Sequence[np.ndarray]) -> np.ndarray:
        self.last = self._classifier.infer(image_rgb, landmarks)
        return self.last

    def close(self) -> None:
        self._classifier.close()


@dataclass
class FrameLabels:
    """What one frame showed for its first face (None without a face)."""

    time_s: float
    shown: str | None
    raw: str | None
    transition: float
    track_id: int | None
    probabilities: np.ndarray | None  # smoothed, as the bars show them


def run_stream(pipeline: Pipeline, recorder: RecordingClassifier, frames: Iterable[Frame]) -> list[FrameLabels]:
    """Play `frames` as one video through the pipeline, from a fresh tracking state."""
    pipeline.reset()
    shown = []
    for frame in frames:
        result = pipeline.process(frame)
        if result.faces:
            face = result.faces[0]
            raw = EMOTION_LABELS[int(np.argmax(recorder.last[0]))]
            shown.append(FrameLabels(frame.timestamp_s, face.label, raw, face.transition, face.track_id, face.probabilities))
        else:
            shown.append(FrameLabels(frame.timestamp_s, None, None, 1.0, None, None))
    return shown


def count_switches(labels: Sequence[str | None]) -> int:
    """Changes between consecutive known labels (frames without a face are passed over)."""
    known = [label for label in labels if label is not None]
    return sum(1 for before, after in itertools.pairwise(known) if before != after)


def reaction(times: list[float], shown: list[str | None], transitions: list[float], cut_s: float,
             new_label: str) -> tuple[float | None, float | None]:
    """Seconds from the cut to the shown label becoming `new_label`, and to its pop ending."""
    switched = faded = None
    for time_s, label, transition in zip(times, shown, transitions):
        if time_s < cut_s - 1e-9 or label != new_label:
            continue
        switched = time_s - cut_s if switched is None else switched
        if transition >= 1.0:
            faded = time_s - cut_s
            break
    return switched, faded


# --------------------------------------------------------------------------- (a) steady face


def steady_face(pipeline: Pipeline, recorder: RecordingClassifier, source_spec: str, max_frames: int) -> dict[str, Any]:
    with open_source(source_spec) as source:
        fps = source.fps
        labels = run_stream(pipeline, recorder, (frame for _, frame in zip(range(max_frames), source)))
    seconds = len(labels) / fps
    shown_switches = count_switches([frame.shown for frame in labels])
    raw_switches = count_switches([frame.raw for frame in labels])
    shown = [frame.shown for frame in labels if frame.shown is not None]
    return {
        "frames": len(labels),
        "seconds": seconds,
        "frames_with_face": len(shown),
        "track_ids": sorted({frame.track_id for frame in labels if frame.track_id is not None}),
        "labels_shown": {label: shown.count(label) for label in sorted(set(shown))},
        "shown_switches_per_5s": shown_switches * 5.0 / seconds,
        "raw_switches_per_5s": raw_switches * 5.0 / seconds,
    }


# --------------------------------------------------------------------------- (b) real faces


def fer_frame(path: Path) -> np.ndarray | None:
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        return None
    face = cv2.resize(gray, (FACE_PX, FACE_PX), interpolation=cv2.INTER_CUBIC)
    before = (FRAME_PX - FACE_PX) // 2
    after = FRAME_PX - FACE_PX - before
    framed = cv2.copyMakeBorder(face, before, after, before, after, cv2.BORDER_CONSTANT, value=128)
    return cv2.cvtColor(framed, cv2.COLOR_GRAY2RGB)


@dataclass
class Candidate:
    path: Path
    image: np.ndarray
    label: str  # the folder's (true) label
    probability: float  # the model's probability of that label
    predicted: str


def most_clearly_predicted(pipeline: Pipeline, folder: Path, label: str, limit: int) -> Candidate | None:
    """Of the first `limit` images of `folder`, the one with the highest probability of `label`,
    preferring faces the model actually predicts as `label`."""
    best: Candidate | None = None
    for path in sorted(folder.glob("*.jpg"))[:limit]:
        image = fer_frame(path)
        if image is None:
            continue
        result = pipeline.process(Frame(image=image, index=0, source=str(path), timestamp_s=0.0, is_still=True))
        if len(result.faces) != 1:
            continue
        probabilities = result.faces[0].probabilities
        candidate = Candidate(path, image, label, float(probabilities[EMOTION_LABELS.index(label)]),
                              EMOTION_LABELS[int(np.argmax(probabilities))])
        rank = (candidate.predicted == label, candidate.probability)
        if best is None or rank > (best.predicted == label, best.probability):
            best = candidate
    return best


def real_face_reaction(pipeline: Pipeline, recorder: RecordingClassifier, fer_dir: Path, limit: int) -> dict[str, Any]:
    """Play the clearest 'happy' face for 3 s, then the clearest surprise/neutral face for 3 s."""
    val = fer_dir / "val"
    if not val.is_dir():
        return {"skipped": f"FER2013 not found at {fer_dir} (expects val/<label>/*.jpg); pass --fer-dir"}
    first = most_clearly_predicted(pipeline, val / FIRST_LABEL, FIRST_LABEL, limit)
    found = [most_clearly_predicted(pipeline, val / label, label, limit) for label in SECOND_LABELS]
    second_candidates = [candidate for candidate in found if candidate is not None]
    if first is None or not second_candidates:
        return {"skipped": f"no face found in the first {limit} FER2013 val images of the chosen labels"}
    second = max(second_candidates, key=lambda candidate: (candidate.predicted == candidate.label, candidate.probability))
    chosen = {
        "first": {"path": str(first.path), "label": first.label, "predicted": first.predicted, "p": first.probability},
        "second": {"path": str(second.path), "label": second.label, "predicted": second.predicted, "p": second.probability},
    }
    unclear = [candidate for candidate in (first, second) if candidate.predicted != candidate.label]
    if unclear:
        what = "; ".join(f"none of the first {limit} {candidate.label!r} faces is predicted {candidate.label!r} "
                         f"(best: {candidate.predicted!r})" for candidate in unclear)
        return {"skipped": f"{what}, so there is no clear change to react to (placeholder model?)", **chosen}
    per_segment = round(SEGMENT_S * FPS)
    frames = [Frame(image=(first.image if index < per_segment else second.image), index=index, source="bench.smoothing",
                    timestamp_s=index / FPS) for index in range(2 * per_segment)]
    labels = run_stream(pipeline, recorder, frames)
    times = [frame.time_s for frame in labels]
    switched, faded = reaction(times, [frame.shown for frame in labels], [frame.transition for frame in labels],
                               SEGMENT_S, second.predicted)
    raw_switched, _ = reaction(times, [frame.raw for frame in labels], [1.0] * len(labels), SEGMENT_S, second.predicted)
    before_cut = [frame.shown for frame in labels[:per_segment]]
    new_index = EMOTION_LABELS.index(second.predicted)
    # How far the new label's smoothed log-probability got ahead of the shown one: a switch needs
    # SmoothingOptions.switch_margin_nats, so this explains a "never".
    leads = [float(np.log(frame.probabilities[new_index] / frame.probabilities[EMOTION_LABELS.index(frame.shown)]))
             for frame in labels[per_segment:]
             if frame.probabilities is not None and frame.shown is not None and frame.shown != second.predicted]
    return {
        **chosen,
        "shown_before_cut": max(set(before_cut), key=before_cut.count),
        "max_lead_before_switch": max(leads) if leads else None,
        "raw_switch_s": raw_switched,
        "shown_switch_s": switched,
        "transition_done_s": faded,
        "track_ids": sorted({frame.track_id for frame in labels if frame.track_id is not None}),
    }


# --------------------------------------------------------------------------- (c) synthetic


def distribution(weights: dict[str, float]) -> np.ndarray:
    """Probabilities with the given labels' weights and the rest spread evenly."""
    rest = (1.0 - sum(weights.values())) / (len(EMOTION_LABELS) - len(weights))
    return np.array([weights.get(label, rest) for label in EMOTION_LABELS], np.float32)


def play_synthetic(stream: list[np.ndarray], fps: float) -> list[LabelState]:
    """Feed probability vectors to one track's LabelSmoother at `fps`; its LabelStates."""
    smoother = SmoothingBank(SmoothingOptions()).get(1)
    return [smoother.labels.update(probabilities, index / fps) for index, probabilities in enumerate(stream)]


def noisy(center: np.ndarray, frames: int, concentration: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Per-frame probabilities scattered around `center` (Dirichlet), like a real model's jitter."""
    return list(rng.dirichlet(center * concentration, size=frames).astype(np.float32))


def cut_delays(before: np.ndarray, after: np.ndarray, fps: float, concentration: float | None,
               rng: np.random.Generator) -> tuple[float | None, float | None]:
    """Switch and pop-done delays of one stream that cuts from `before` to `after` after 3 s;
    with `concentration`, every frame is jittered (Dirichlet) instead of constant."""
    frames = round(SEGMENT_S * fps)
    if concentration is None:
        stream = [before] * frames + [after] * frames
    else:
        stream = noisy(before, frames, concentration, rng) + noisy(after, frames, concentration, rng)
    states = play_synthetic(stream, fps)
    times = [index / fps for index in range(2 * frames)]
    return reaction(times, [EMOTION_LABELS[state.label_index] for state in states],
                    [state.transition for state in states], SEGMENT_S, EMOTION_LABELS[int(np.argmax(after))])


def synthetic_cases(seed: int, trials: int) -> list[dict[str, Any]]:
    """Clean and soft cuts (exact delays), noisy cuts (median and p90 over `trials` streams) and
    a long noisy steady stream with two close labels (switches per 5 s)."""
    rng = np.random.default_rng(seed)
    happy = distribution({"happy": 0.9})
    surprise = distribution({"surprise": 0.9})
    soft_happy = distribution({"happy": 0.5, "neutral": 0.3})
    soft_neutral = distribution({"neutral": 0.5, "happy": 0.3})
    cases = []
    for name, before, after, fps in (
        ("clean cut happy->surprise", happy, surprise, 15.0),
        ("clean cut happy->surprise", happy, surprise, 30.0),
        ("clean cut happy->surprise", happy, surprise, 60.0),
        ("soft cut happy->neutral (0.5 vs 0.3)", soft_happy, soft_neutral, 30.0),
    ):
        switched, faded = cut_delays(before, after, fps, None, rng)
        cases.append({"case": name, "fps": fps, "switch_s": switched, "transition_done_s": faded})
    for name, before, after in (("noisy clean cut happy->surprise", happy, surprise),
                                ("noisy soft cut happy->neutral", soft_happy, soft_neutral)):
        delays = [cut_delays(before, after, FPS, NOISE_CONCENTRATION, rng) for _ in range(trials)]
        switches = [switched for switched, _ in delays]
        never = sum(1 for value in switches if value is None)
        measured = [value if value is not None else math.inf for value in switches]
        cases.append({"case": f"{name}, {trials} trials", "fps": FPS, "switch_s": float(np.median(measured)),
                      "switch_p90_s": float(np.percentile(measured, 90)), "never_switched": never,
                      "transition_done_s": float(np.median([faded if faded is not None else math.inf for _, faded in delays]))})
    stream = noisy(distribution({"happy": 0.42, "neutral": 0.38}), round(STEADY_SYNTHETIC_S * FPS), NOISE_CONCENTRATION, rng)
    shown = [EMOTION_LABELS[state.label_index] for state in play_synthetic(stream, FPS)]
    raw = [EMOTION_LABELS[int(np.argmax(probabilities))] for probabilities in stream]
    cases.append({"case": f"noisy steady happy 0.42 vs neutral 0.38, {STEADY_SYNTHETIC_S:g} s", "fps": FPS,
                  "shown_switches_per_5s": count_switches(shown) * 5.0 / STEADY_SYNTHETIC_S,
                  "raw_switches_per_5s": count_switches(raw) * 5.0 / STEADY_SYNTHETIC_S})
    return cases


# --------------------------------------------------------------------------- report


def seconds_text(value: float | None) -> str:
    return "never" if value is None or math.isinf(value) else f"{value:.3f} s"


def print_report(report: dict[str, Any]) -> None:
    print("smoothing bench")
    print(describe_context(report["machine"]))
    steady = report["steady"]
    print(f"\n(a) steady face, {report['steady_source']}: {steady['frames']} frames ({steady['seconds']:.1f} s), "
          f"face in {steady['frames_with_face']}, track ids {steady['track_ids']}, labels shown {steady['labels_shown']}")
    print(f"    shown label switches per 5 s: {steady['shown_switches_per_5s']:.2f} "
          f"(raw prediction: {steady['raw_switches_per_5s']:.2f}); target <= {TARGET_SWITCHES_PER_5S:g}: "
          f"{verdict(steady['shown_switches_per_5s'] <= TARGET_SWITCHES_PER_5S)}")
    real = report["real_faces"]
    print("\n(b) real faces (FER2013 val), 3 s each at 30 frames/s:")
    for key in ("first", "second"):
        if key in real:
            face = real[key]
            print(f"    {key}: {face['path']} ({face['label']}, predicted {face['predicted']}, p({face['label']})={face['p']:.2f})")
    if "skipped" in real:
        print(f"    skipped: {real['skipped']}")
    else:
        switch = real["shown_switch_s"]
        lead = real["max_lead_before_switch"]
        lead_text = "" if lead is None else (f", new label's smoothed lead over the shown one reached {lead:+.2f} "
                                             f"nats (switch_margin_nats {SmoothingOptions().switch_margin_nats:g})")
        tracks = len(real["track_ids"])
        print(f"    shown before the cut: {real['shown_before_cut']}; {tracks} track(s) "
              f"({'kept' if tracks == 1 else 'reset'} across the cut){lead_text}")
        print(f"    raw prediction changed after {seconds_text(real['raw_switch_s'])}, shown label after "
              f"{seconds_text(switch)} (pop done {seconds_text(real['transition_done_s'])}); "
              f"target <= {TARGET_REACTION_S:g} s: {verdict(switch is not None and switch <= TARGET_REACTION_S)}")
    print("\n(c) synthetic streams through SmoothingBank (default SmoothingOptions):")
    rows = []
    for case in report["synthetic"]:
        if "switch_s" in case:
            switch = case["switch_s"]
            switch_text = seconds_text(switch) + (f" (p90 {seconds_text(case['switch_p90_s'])})" if "switch_p90_s" in case else "")
            rows.append((case["case"], f"{case['fps']:g}", switch_text, seconds_text(case["transition_done_s"]), "-",
                         verdict(switch is not None and switch <= TARGET_REACTION_S)))
        else:
            rate = case["shown_switches_per_5s"]
            rows.append((case["case"], f"{case['fps']:g}", "-", "-", f"{rate:.2f} (raw {case['raw_switches_per_5s']:.2f})",
                         verdict(rate <= TARGET_SWITCHES_PER_5S)))
    print(format_table(("case", "fps", "switch after", "pop done", "switches/5 s", ""), rows))


def make_steady_clip(folder: Path, seconds: float) -> str:
    path = folder / "face512.mp4"
    subprocess.run([sys.executable, "-m", "bench.make_clip", "--out", str(path), "--seconds", f"{seconds:g}"],
                   cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", help="video of a steady face for (a) (default: a fresh 10 s one-face clip)")
    parser.add_argument("--frames", type=int, default=300, help="frames of (a) (default 300 = 10 s)")
    parser.add_argument("--fer-dir", type=Path, default=DEFAULT_FER_DIR, help=f"FER2013 folder (default {DEFAULT_FER_DIR})")
    parser.add_argument("--candidates", type=int, default=40, help="FER2013 val images tried per label (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic noise")
    parser.add_argument("--trials", type=int, default=50, help="noisy synthetic cuts per case (default 50)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the full report as JSON")
    arguments = parser.parse_args()
    if arguments.frames < 2 or arguments.candidates < 1 or arguments.trials < 1:
        parser.error("--frames must be at least 2, --candidates and --trials at least 1")

    options = PipelineOptions()
    recorder = RecordingClassifier(EmotionClassifier(options.emotion))
    pipeline = Pipeline(options, classifier=recorder)
    with tempfile.TemporaryDirectory(prefix="arfilter-bench-") as folder:
        source = arguments.source or make_steady_clip(Path(folder), max(1.0, arguments.frames / FPS))
        steady = steady_face(pipeline, recorder, source, arguments.frames)
    report = {
        "bench": "smoothing",
        "machine": machine_context(),
        "smoothing_options": asdict(SmoothingOptions()),
        "steady_source": arguments.source or "generated 512x512 one-face clip",
        "steady": steady,
        "real_faces": real_face_reaction(pipeline, recorder, arguments.fer_dir, arguments.candidates),
        "synthetic": synthetic_cases(arguments.seed, arguments.trials),
    }
    print_report(report)
    write_json(arguments.json, report)


if __name__ == "__main__":
    main()
