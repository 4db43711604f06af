"""Faults of the emotion model: broken metadata or a model of the wrong shape is refused at start, in one line."""

from __future__ import annotations

import pytest

from tests.faults import ASTRONAUT, model_copy, one_error, run_cli

# --------------------------------------------------------------------------- 7. model metadata


def _set_temperature(value: float):
    def change(metadata: dict) -> None:
        metadata["temperatures"][metadata["model_file"]] = value
    return change


def _nan_bias(metadata: dict) -> None:
    metadata["logit_bias"] = [float("nan")] + [0.0] * (len(metadata["labels"]) - 1)


@pytest.mark.parametrize(("change", "field"), [
    (_set_temperature(float("nan")), "temperatures"),
    (_set_temperature(1e-9), "temperatures"),
    (_set_temperature(float("inf")), "temperatures"),
    (_nan_bias, "logit_bias"),
], ids=["nan-temperature", "tiny-temperature", "infinite-temperature", "nan-logit-bias"])
def test_non_finite_model_metadata_is_refused_at_start(tmp_path, capsys, change, field):
    metadata = model_copy(tmp_path, change)
    json_path = tmp_path / "out.jsonl"
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--model", metadata, "--json", json_path)
    one_error(code, err, metadata, field)
    assert not json_path.exists(), "refused before any output is opened"


def test_a_model_file_of_the_wrong_shape_is_refused_at_start_not_at_the_first_face(tmp_path, capsys):
    from arfilter.resources import FACE_MODELS_DIR

    metadata = model_copy(tmp_path, lambda metadata: None, model_source=FACE_MODELS_DIR / "face_landmark.tflite")
    json_path = tmp_path / "out.jsonl"
    # The demo shows faces from its first frame: failing "at the first face" would be after the
    # outputs opened; at start, nothing is written.
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "2", "--model", metadata,
                           "--json", json_path)
    one_error(code, err, "shape")
    assert not json_path.exists()
