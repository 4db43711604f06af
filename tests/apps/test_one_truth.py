"""One truth per face on a real clip: the label is the biggest of the probabilities the bars show, or the
state says why not; a paused frame settles; mirroring keeps the faces' ids."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from arfilter.apps.cli import main
from arfilter.apps.lens import build_lens
from arfilter.core.types import HELD, STEADY
from arfilter.io.sinks.jsonl import frame_record
from arfilter.io.sources.demo import DemoSource


@pytest.fixture(scope="module")
def lens():
    with build_lens() as built:
        yield built


def test_every_json_line_of_the_demo_has_its_label_as_argmax_or_says_held(lens):
    lens.reset()
    states = []
    with DemoSource() as source:
        for _, frame in zip(range(240), source):
            for face in frame_record(lens.process(frame))["faces"]:
                top = max(face["probs"], key=face["probs"].get)
                assert face["label"] == top or face["state"] == HELD, face
                assert face["confidence"] == face["probs"][face["label"]]
                states.append(face["state"])
    assert states.count(STEADY) > 0.8 * len(states)


SHARED_CLIPS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "face-videos"


@pytest.mark.skipif(not SHARED_CLIPS.is_dir(), reason=f"the face-videos clips are not in {SHARED_CLIPS}")
@pytest.mark.parametrize("clip", ["01_expr_woman_sad_to_laugh_pexels.mp4", "06_talk_man_suit_hdtf.mp4"])
def test_every_json_line_of_a_real_clip_has_its_label_as_argmax_or_says_held(tmp_path, clip):
    """The command line on real footage (an expression change; a man talking, where the speech guard
    holds labels longest): the JSON never contradicts itself."""
    json_path = tmp_path / "out.jsonl"
    assert main(["--source", str(SHARED_CLIPS / clip), "--headless", "--max-frames", "200", "--json", str(json_path)]) == 0
    faces = [face for line in json_path.read_text().splitlines() for face in json.loads(line)["faces"]]
    assert len(faces) > 100
    for face in faces:
        top = max(face["probs"], key=face["probs"].get)
        assert face["label"] == top or face["state"] == HELD, face
        assert face["confidence"] == face["probs"][face["label"]]


def test_a_settled_frame_shows_the_frame_own_top_label(lens):
    lens.reset()
    with DemoSource() as source:
        result = None
        for _, frame in zip(range(20), source):
            result = lens.process(frame)
    assert result is not None and result.faces
    settled = lens.settle(result)
    for before, after in zip(result.faces, settled.faces):
        assert after.track_id == before.track_id
        assert after.state == STEADY and after.transition == 1.0 and after.previous_label is None
        assert after.label == before.labels[int(np.argmax(before.frame_probabilities))]
        assert int(np.argmax(after.probabilities)) == after.labels.index(after.label)


def test_mirroring_keeps_every_face_id(lens):
    lens.reset()
    with DemoSource() as source:
        frames = [frame for _, frame in zip(range(40), source)]
    for frame in frames[:20]:
        before = {face.track_id for face in lens.process(frame).faces}
    assert len(before) == 2
    lens.mirror(frames[0].image.shape[1])
    for frame in frames[20:]:
        flipped = dataclasses.replace(frame, image=cv2.flip(frame.image, 1))
        result = lens.process(flipped)
        assert {face.track_id for face in result.faces} == before
        assert all(face.settled for face in result.faces), "no face restarts settling (its overlay stays)"
