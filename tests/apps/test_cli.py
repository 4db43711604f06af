"""The command line, run in-process through `arfilter.apps.cli.main(argv)` (and `main.py --help` once).

Every source kind runs headless with the real models and checks the JSON Lines schema exactly;
every bad input must end with a non-zero exit and one stderr line that names the culprit.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from arfilter.apps.cli import build_parser, main
from arfilter.core.expressions import EXPRESSIONS
from arfilter.vision.labels import EMOTION_LABELS

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path(__file__).parent.parent / "data"
ASTRONAUT = DATA / "astronaut.png"
MODELS = PROJECT_ROOT / "arfilter" / "models"
CLIP_FRAMES = 10
CLIP_FPS = 30.0
FRAME_KEYS = {"frame", "source", "t_ms", "untracked_faces", "faces"}
FACE_KEYS = {"id", "box", "roll_deg", "label", "confidence", "state", "probs", "raw_probs", "calibrated", "expressions"}


@pytest.fixture(autouse=True)
def no_user_packs(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Packs in the developer's own ~/.config must not change what the CLI loads."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.asarray(Image.open(ASTRONAUT).convert("RGB"))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray) -> pathlib.Path:
    """A 10-frame mp4 of the astronaut sliding right by 3 px a frame."""
    path = tmp_path_factory.mktemp("clip") / "astronaut.mp4"
    height, width = astronaut.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), CLIP_FPS, (width, height))
    assert writer.isOpened()
    for index in range(CLIP_FRAMES):
        shift = np.float32([[1, 0, 3 * index], [0, 1, 0]])
        frame = cv2.warpAffine(astronaut, shift, (width, height), borderMode=cv2.BORDER_REPLICATE)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, list[str]]:
    """Exit code, stdout and the stderr lines of one in-process run (argparse exits count too)."""
    capsys.readouterr()
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


def read_json_lines(path: pathlib.Path) -> list[dict]:
    lines = path.read_text().splitlines()
    return [json.loads(line) for line in lines]


def check_record(record: dict) -> None:
    """The documented JSON Lines schema, exactly: no key more or less, and the right types."""
    assert set(record) == FRAME_KEYS
    assert type(record["frame"]) is int and record["frame"] >= 0
    assert type(record["source"]) is str and record["source"]
    assert type(record["t_ms"]) is float and record["t_ms"] >= 0.0
    assert type(record["faces"]) is list
    for face in record["faces"]:
        assert set(face) == FACE_KEYS
        assert set(face["expressions"]) <= set(EXPRESSIONS)
        assert type(face["id"]) is int and face["id"] >= 1
        assert type(face["box"]) is list and len(face["box"]) == 4
        assert all(type(value) is int for value in face["box"])
        assert face["box"][2] > 0 and face["box"][3] > 0
        assert type(face["roll_deg"]) is float and -180.0 <= face["roll_deg"] <= 180.0
        assert face["label"] in EMOTION_LABELS
        assert type(face["confidence"]) is float and 0.0 <= face["confidence"] <= 1.0
        for probs in (face["probs"], face["raw_probs"]):
            assert set(probs) == set(EMOTION_LABELS)
            assert all(type(value) is float and 0.0 <= value <= 1.0 for value in probs.values())
            assert sum(probs.values()) == pytest.approx(1.0, abs=1e-3)
        assert face["confidence"] == pytest.approx(face["probs"][face["label"]], abs=1e-4)
        # One truth: the label is the biggest of probs, or the state says why not.
        assert face["state"] in ("steady", "settling", "held")
        top = max(face["probs"].values())
        assert (face["probs"][face["label"]] == top) == (face["state"] != "held"), face


def count_video_frames(path: pathlib.Path) -> tuple[int, tuple[int, int]]:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"{path} is not a readable video"
    frames, size = 0, (0, 0)
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames, size = frames + 1, image.shape[1::-1]
    capture.release()
    return frames, size


# --------------------------------------------------------------------------- sources


def test_image_source_writes_one_record_and_an_annotated_image(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], astronaut: np.ndarray
) -> None:
    json_path, out_dir = tmp_path / "out.jsonl", tmp_path / "annotated"
    code, out, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--json", json_path, "--out-dir", out_dir)
    assert code == 0, err
    assert out == "" and "processed 1 frame(s) with 1 face(s)" in "\n".join(err)  # results in files, messages on stderr
    (record,) = read_json_lines(json_path)
    check_record(record)
    assert (record["frame"], record["source"], record["t_ms"]) == (0, str(ASTRONAUT), 0.0)
    (face,) = record["faces"]
    assert face["probs"][face["label"]] == max(face["probs"].values()), "a still shows the model's top class"
    x, y, width, height = face["box"]
    assert 150 < x < 200 and 50 < y < 90 and 80 < width < 110 and 90 < height < 125  # the face, see landmarks
    assert [path.name for path in out_dir.iterdir()] == ["astronaut.png"]
    annotated = np.asarray(Image.open(out_dir / "astronaut.png").convert("RGB"))
    assert annotated.shape == astronaut.shape
    changed = np.any(annotated != astronaut, axis=2)
    assert changed[y : y + height, x : x + width].mean() > 0.1
    assert not changed[:, 400:].any() and not changed[300:, :].any()


def test_folder_source_gives_one_record_per_image_in_path_order(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], astronaut: np.ndarray
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(ASTRONAUT, folder / "a_face.png")
    blank = np.full((240, 320, 3), 200, np.uint8)
    cv2.imwrite(str(folder / "b_blank.jpg"), blank)
    (folder / "notes.txt").write_text("not an image")
    json_path, out_dir = tmp_path / "out.jsonl", tmp_path / "annotated"
    code, _, err = run_cli(capsys, "--source", folder, "--headless", "--json", json_path, "--out-dir", out_dir)
    assert code == 0, err
    records = read_json_lines(json_path)
    for record in records:
        check_record(record)
    assert [record["source"] for record in records] == [str(folder / "a_face.png"), str(folder / "b_blank.jpg")]
    assert [record["frame"] for record in records] == [0, 1]
    assert [len(record["faces"]) for record in records] == [1, 0]
    assert sorted(path.name for path in out_dir.iterdir()) == ["a_face.png", "b_blank.jpg"]
    annotated_face = np.asarray(Image.open(out_dir / "a_face.png").convert("RGB"))
    assert annotated_face.shape == astronaut.shape and not np.array_equal(annotated_face, astronaut)
    annotated_blank = cv2.imread(str(out_dir / "b_blank.jpg"))
    assert annotated_blank.shape == blank.shape
    assert np.abs(annotated_blank.astype(int) - 200).max() <= 3  # nothing drawn (JPEG noise only)


def test_folder_source_respects_max_frames(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("1.png", "2.png", "3.png"):
        shutil.copy(ASTRONAUT, folder / name)
    json_path = tmp_path / "out.jsonl"
    code, _, err = run_cli(capsys, "--source", folder, "--headless", "--max-frames", 2, "--json", json_path)
    assert code == 0, err
    assert [record["source"] for record in read_json_lines(json_path)] == [str(folder / "1.png"), str(folder / "2.png")]


def test_video_source_writes_every_frame_and_a_readable_recording(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], clip: pathlib.Path
) -> None:
    json_path, record_path = tmp_path / "out.jsonl", tmp_path / "annotated.mp4"
    code, _out, err = run_cli(capsys, "--source", clip, "--headless", "--json", json_path, "--record", record_path)
    assert code == 0, err
    assert f"processed {CLIP_FRAMES} frame(s)" in "\n".join(err)
    records = read_json_lines(json_path)
    assert len(records) == CLIP_FRAMES
    for index, record in enumerate(records):
        check_record(record)
        assert record["frame"] == index and record["source"] == str(clip)
        assert record["t_ms"] == pytest.approx(index * 1000.0 / CLIP_FPS, abs=1e-3)
        assert len(record["faces"]) == 1
    assert len({record["faces"][0]["id"] for record in records}) == 1, "one face in a video keeps one track id"
    # The face slides right 3 px a frame; the box follows.
    first_x, last_x = records[0]["faces"][0]["box"][0], records[-1]["faces"][0]["box"][0]
    assert 27 - 6 <= last_x - first_x <= 27 + 6
    assert count_video_frames(record_path) == (CLIP_FRAMES, (512, 512))


def test_video_source_respects_max_frames_in_every_output(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], clip: pathlib.Path
) -> None:
    json_path, record_path = tmp_path / "out.jsonl", tmp_path / "annotated.mp4"
    code, _, err = run_cli(capsys, "--source", clip, "--headless", "--max-frames", 4, "--json", json_path,
                           "--record", record_path)
    assert code == 0, err
    assert [record["frame"] for record in read_json_lines(json_path)] == [0, 1, 2, 3]
    assert count_video_frames(record_path)[0] == 4


def test_demo_source_stops_after_max_frames(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    json_path, record_path = tmp_path / "demo.jsonl", tmp_path / "demo.mp4"
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", 3, "--json", json_path,
                           "--record", record_path)
    assert code == 0, err
    records = read_json_lines(json_path)
    assert [record["frame"] for record in records] == [0, 1, 2]
    for record in records:
        check_record(record)
        assert record["source"] == "demo"
        assert len(record["faces"]) >= 1
    assert count_video_frames(record_path) == (3, (640, 480))


def test_help_documents_every_flag() -> None:
    completed = subprocess.run([sys.executable, "main.py", "--help"], cwd=PROJECT_ROOT, capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    flags = [flag for action in build_parser()._actions for flag in action.option_strings]
    assert "--headless" in flags and "--json" in flags
    undocumented = [flag for flag in flags if flag not in completed.stdout]
    assert not undocumented, f"--help does not mention {undocumented}"
    assert all(action.help for action in build_parser()._actions), "every flag needs a help text"
    for field_name in ("frame", "source", "t_ms", "untracked_faces", "faces", "box", "roll_deg", "label", "confidence",
                       "state", "probs", "raw_probs", "calibrated"):
        assert f'"{field_name}"' in completed.stdout, f"the JSON field {field_name} is not documented in --help"


# --------------------------------------------------------------------------- bad inputs


def assert_one_line_error(code: int, err: list[str], *names: object) -> None:
    assert code != 0
    assert len(err) == 1, f"expected one stderr line, got {err}"
    assert err[0].startswith("arfilter: error: ")
    for name in names:
        assert str(name) in err[0]


def test_missing_source_file(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.png"
    code, _, err = run_cli(capsys, "--source", missing, "--headless", "--json", tmp_path / "out.jsonl")
    assert_one_line_error(code, err, missing)
    assert not (tmp_path / "out.jsonl").exists(), "no output is started for a source that does not open"


def test_folder_without_images(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "readme.txt").write_text("no pictures here")
    code, _, err = run_cli(capsys, "--source", folder, "--headless", "--json", tmp_path / "out.jsonl")
    assert_one_line_error(code, err, folder, "no images")
    assert not (tmp_path / "out.jsonl").exists()


def test_folder_whose_images_are_all_unreadable(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("a.png", "b.jpg"):
        (folder / name).write_bytes(b"not an image")
    code, _, err = run_cli(capsys, "--source", folder, "--headless")
    # Each skipped file may be logged; the run must still fail with one error line naming the folder.
    errors = [line for line in err if line.startswith("arfilter: error: ")]
    assert code != 0
    assert len(errors) == 1 and errors[0] == err[-1] and str(folder) in errors[0], err


def test_corrupt_video(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = tmp_path / "broken.mp4"
    video.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    code, _, err = run_cli(capsys, "--source", video, "--headless", "--json", tmp_path / "out.jsonl")
    assert_one_line_error(code, err, video)
    assert not (tmp_path / "out.jsonl").exists()


def test_model_metadata_that_is_not_json(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    metadata = tmp_path / "emotion.json"
    metadata.write_text('{"format": "arfilter-emotion/1", ')
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--model", metadata)
    assert_one_line_error(code, err, metadata)


def test_model_whose_tflite_is_garbage(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    shutil.copytree(MODELS, models)
    model_file = json.loads((models / "emotion.json").read_text())["model_file"]
    (models / model_file).write_bytes(b"this is not a flatbuffer" * 100)
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--model", models / "emotion.json")
    assert_one_line_error(code, err, models / model_file)


def test_unknown_pack_lists_the_available_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--pack", "no-such-pack")
    assert_one_line_error(code, err, "no-such-pack", "emoji", "party", "shades")


def test_broken_user_pack_is_skipped_with_a_warning(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "packs" / "broken"
    broken.mkdir(parents=True)
    (broken / "pack.toml").write_text('name = "broken"\n[[emotions.default.layers]]\nimage = "missing.png"\n')
    json_path = tmp_path / "out.jsonl"
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--packs-dir", tmp_path / "packs",
                           "--json", json_path)
    assert code == 0
    assert err[0].startswith("arfilter: warning: ") and str(broken) in err[0], err
    assert [line for line in err if line.startswith("arfilter: ")] == err[:1] and err[1].startswith("processed 1 frame(s)")
    (record,) = read_json_lines(json_path)
    assert len(record["faces"]) == 1


@pytest.mark.parametrize("flag", ["--json", "--out-dir", "--record"])
def test_output_under_a_regular_file(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], flag: str) -> None:
    regular_file = tmp_path / "a_file"
    regular_file.write_text("in the way")
    target = regular_file / ("out.mp4" if flag == "--record" else "out")
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", flag, target)
    assert_one_line_error(code, err, target)
    assert regular_file.read_text() == "in the way"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--record", "out.mp4"], "--headless"),
        (["--json", "out.jsonl"], "--headless"),
        (["--out-dir", "annotated"], "--headless"),
        (["--headless", "--max-frames", "0"], "--max-frames"),
    ],
)
def test_argument_errors_exit_2_and_name_the_flag(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    argv: list[str], named: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, *argv)
    assert code == 2
    errors = [line for line in err if line.startswith("arfilter: error: ")]
    assert len(errors) == 1 and errors[0] == err[-1] and named in errors[0], err
    assert err[0].startswith("usage: ")
    assert list(tmp_path.iterdir()) == [], "nothing is written when the arguments are wrong"


def test_neutral_face_reads_every_face_relative_to_the_photo(tmp_path, capsys) -> None:
    """The same photo as its own neutral reference reads neutral; without the flag it reads as the model sees it."""
    photo = DATA / "astronaut.png"
    plain, relative = tmp_path / "plain.jsonl", tmp_path / "relative.jsonl"
    assert main(["--source", str(photo), "--headless", "--json", str(plain)]) == 0
    assert main(["--source", str(photo), "--headless", "--json", str(relative), "--neutral-face", str(photo)]) == 0
    (face,) = json.loads(relative.read_text())["faces"]
    assert face["calibrated"] is True and face["label"] == "neutral"
    assert json.loads(plain.read_text())["faces"][0]["calibrated"] is False


def test_a_neutral_face_photo_without_a_face_is_one_line(tmp_path, capsys) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((64, 64, 3), 128, np.uint8))
    assert main(["--source", str(DATA / "astronaut.png"), "--headless", "--neutral-face", str(blank)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("arfilter: error: --neutral-face") and "no face found" in err and "\n" not in err
