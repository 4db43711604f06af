"""Issue 21's fault cases through the command line: a full disk, outputs onto any file the run
reads, files read without bounds, wrong data, and the smaller ones. Each asserts the exit code,
the one line the user sees, byte-identical inputs and complete outputs.

A real full disk is a small tmpfs (root can mount one here; the test skips and says why where
it cannot) or /dev/full.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.faults import (
    ASTRONAUT,
    cli_process,
    digest,
    json_lines,
    messages,
    model_copy,
    one_error,
    run_cli,
    run_process,
    subprocess_env,
    video_frames,
    write_clip,
    write_pack,
)


@pytest.fixture(autouse=True)
def no_user_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "600k"):
    """A tmpfs of `size` mounted on `folder` (a real full disk), unmounted afterwards."""
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root; the full-disk case cannot be staged here")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the full-disk case cannot be staged")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


# --------------------------------------------------------------------------- a full disk


def test_a_recording_onto_a_full_disk_is_an_error_not_success(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        code, out, err = run_process(tmp_path, "--source", "demo", "--headless", "--max-frames", "300",
                                     "--record", disk / "demo.mp4")
        err = messages("\n".join(err))
        recording = disk / "demo.mp4"
        assert not recording.exists() or video_frames(recording) > 0, "what is left must play"
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("arfilter: error: ") and "demo.mp4" in err[0], err
    assert "no space left" in err[0], err
    assert "wrote" not in out


# --------------------------------------------------------------------------- outputs onto inputs


def test_json_onto_the_model_metadata_is_refused(tmp_path, capsys):
    metadata = model_copy(tmp_path, lambda data: None)
    before = digest(metadata)
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--model", metadata, "--json", metadata)
    one_error(code, err, "--json", metadata, "model")
    assert digest(metadata) == before


def test_json_onto_the_model_file_is_refused(tmp_path, capsys):
    metadata = model_copy(tmp_path, lambda data: None)
    model = metadata.parent / json.loads(metadata.read_text())["model_file"]
    before = digest(model)
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--model", metadata, "--json", model)
    one_error(code, err, "--json", model)
    assert digest(model) == before


def test_json_onto_a_pack_manifest_is_refused(tmp_path, capsys):
    pack = write_pack(tmp_path / "packs" / "mine", "mine")
    manifest = pack / "pack.toml"
    before = digest(manifest)
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--packs-dir", tmp_path / "packs",
                           "--pack", "mine", "--json", manifest)
    one_error(code, err, "--json", manifest)
    assert digest(manifest) == before


def test_out_dir_onto_a_pack_folder_with_a_source_named_like_a_sprite_is_refused(tmp_path, capsys):
    pack = write_pack(tmp_path / "packs" / "mine", "mine", images=["dot.png"])
    source = tmp_path / "photos" / "dot.png"
    source.parent.mkdir()
    shutil.copy(ASTRONAUT, source)
    before = digest(pack / "dot.png")
    code, _, err = run_cli(capsys, "--source", source, "--headless", "--packs-dir", tmp_path / "packs",
                           "--pack", "mine", "--out-dir", pack)
    one_error(code, err, "--out-dir", "dot.png")
    assert digest(pack / "dot.png") == before


# --------------------------------------------------------------------------- bounded reads


def test_a_huge_sparse_file_in_a_folder_is_skipped_and_counted(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(ASTRONAUT, photos / "a.png")
    with open(photos / "b.jpg", "wb") as file:
        file.truncate(3 * 1024**3)
    shutil.copy(ASTRONAUT, photos / "c.png")
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli(capsys, "--source", photos, "--headless", "--json", out)
    assert code == 0, err
    assert [Path(record["source"]).name for record in json_lines(out)] == ["a.png", "c.png"]
    assert any("skipped 1 unreadable" in line and "b.jpg" in line for line in err), err


def test_a_portrait_phone_jpeg_is_read_upright(tmp_path, capsys):
    from PIL import Image

    photo = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.open(ASTRONAUT).convert("RGB").save(photo, exif=exif.tobytes())
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli(capsys, "--source", photo, "--headless", "--json", out)
    assert code == 0, err
    assert len(json_lines(out)) == 1


# --------------------------------------------------------------------------- wrong data


def variable_rate_clip(path: Path) -> list[float]:
    """An MP4 whose frames are 1/30 s apart, then 1/5 s apart; returns their true times (s)."""
    av = pytest.importorskip("av", reason="writing a variable-frame-rate clip needs PyAV")
    times = [index / 30 for index in range(20)] + [20 / 30 + index / 5 for index in range(1, 21)]
    face = cv2.resize(cv2.imread(str(ASTRONAUT)), (160, 120))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
        for seconds in times:
            frame = av.VideoFrame.from_ndarray(face, format="bgr24")
            frame.pts = round(seconds * 1000)
            frame.time_base = stream.codec_context.time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return times


def test_variable_frame_rate_video_uses_the_containers_timestamps(tmp_path, capsys):
    clip = tmp_path / "vfr.mp4"
    times = variable_rate_clip(clip)
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli(capsys, "--source", clip, "--headless", "--json", out)
    assert code == 0, err
    got = [record["t_ms"] for record in json_lines(out)]
    assert len(got) == len(times)
    assert np.allclose(got, [seconds * 1000 for seconds in times], atol=2.0), got


def test_json_to_stdout_keeps_results_on_stdout_and_messages_on_stderr(tmp_path):
    completed = subprocess.run(cli_process("--source", ASTRONAUT, "--headless", "--json", "-"), capture_output=True,
                               text=True, env=subprocess_env(tmp_path), timeout=60)
    assert completed.returncode == 0, completed.stderr
    records = [json.loads(line) for line in completed.stdout.splitlines()]
    assert len(records) == 1 and records[0]["frame"] == 0
    assert "processed 1 frame" in completed.stderr


def test_json_to_dev_stdout_redirected_to_a_file_keeps_record_zero(tmp_path):
    out = tmp_path / "out.jsonl"
    clip = write_clip(tmp_path / "clip.mp4", frames=5)
    with open(out, "w") as stdout:
        completed = subprocess.run(cli_process("--source", clip, "--headless", "--json", "/dev/stdout"), stdout=stdout,
                                   stderr=subprocess.PIPE, text=True, env=subprocess_env(tmp_path), timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert [record["frame"] for record in json_lines(out)] == list(range(5))


def test_a_reader_that_leaves_is_a_broken_pipe_not_a_full_disk(tmp_path):
    command = " ".join(f"'{part}'" for part in cli_process("--source", "demo", "--headless", "--max-frames", "200",
                                                          "--json", "-"))
    completed = subprocess.run(["bash", "-c", f"set -o pipefail; {command} | head -1"], capture_output=True, text=True,
                               env=subprocess_env(tmp_path), timeout=60)
    assert json.loads(completed.stdout)["frame"] == 0
    assert "space" not in completed.stderr and "Traceback" not in completed.stderr, completed.stderr
    assert completed.returncode == 128 + signal.SIGPIPE


@pytest.mark.parametrize("key, value", [("scale", "1e306"), ("offset", "[1e306, 0.0]"), ("scale", "1e-9")])
def test_a_pack_with_absurd_geometry_is_skipped_at_start(tmp_path, capsys, key, value):
    layer = {"scale": "1.0", "offset": "[0.0, 0.0]", key: value}
    manifest = (f'name = "huge"\n[[emotions.default.layers]]\nimage = "dot.png"\nanchor = "nose_tip"\n'
                f'scale = {layer["scale"]}\noffset = {layer["offset"]}\n')
    write_pack(tmp_path / "packs" / "huge", "huge", manifest=manifest)  # with its dot.png
    code, out, err = run_cli(capsys, "--list-packs", "--packs-dir", tmp_path / "packs")
    assert code == 0
    assert "huge" not in out
    assert any(key in line and "huge" in line for line in err), err


# --------------------------------------------------------------------------- smaller


def test_metadata_with_a_huge_value_gives_a_short_line(tmp_path, capsys):
    metadata = model_copy(tmp_path, lambda data: data.update(logit_bias=[0.0] * 100_000))
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--model", metadata)
    line = one_error(code, err, metadata, "logit_bias")
    assert len(line) < 500


def test_deeply_nested_metadata_is_one_line(tmp_path, capsys):
    metadata = tmp_path / "emotion.json"
    metadata.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--model", metadata)
    one_error(code, err, metadata)


def test_a_model_whose_labels_no_pack_covers_names_the_model_and_its_labels(tmp_path, capsys):
    def relabel(data: dict) -> None:
        data["labels"] = [f"mood{index}" for index in range(len(data["labels"]))]

    metadata = model_copy(tmp_path, relabel)
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--model", metadata)
    line = err[-1]
    assert code == 2 and line.startswith("arfilter: error: "), err
    assert str(metadata) in line and "mood0" in line and "reinstall" not in line


@pytest.mark.parametrize("delay_s", [0.02, 0.08, 0.15, 0.3, 0.5])
def test_ctrl_c_while_starting_is_one_line(tmp_path, delay_s):
    process = subprocess.Popen(cli_process("--source", "demo", "--headless", "--max-frames", "100000"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(tmp_path))
    time.sleep(delay_s)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    if "init_import_site" in stderr:
        pytest.skip("the signal came while Python itself was starting (its site module), before any arfilter code")
    assert "Traceback" not in stderr, stderr
    assert process.returncode == 130, stderr
    assert len(stderr.splitlines()) <= 1, stderr


def test_json_in_a_missing_folder_creates_nothing(tmp_path, capsys):
    out = tmp_path / "nonexistent" / "dir" / "out.jsonl"
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--json", out)
    one_error(code, err, out.parent, "does not exist")
    assert not (tmp_path / "nonexistent").exists()


def test_out_dir_is_created_and_said(tmp_path, capsys):
    out = tmp_path / "annotated"
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--out-dir", out)
    assert code == 0, err
    assert any(f"{out}/ (1 images, in the folder created for them)" in line for line in err), err
    assert (out / ASTRONAUT.name).is_file()


def test_sigkill_while_recording_leaves_a_playable_file(tmp_path):
    record = tmp_path / "demo.mp4"
    json_path = tmp_path / "demo.jsonl"
    process = subprocess.Popen(cli_process("--source", "demo", "--headless", "--record", record, "--json", json_path),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=subprocess_env(tmp_path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not json_path.exists() or json_path.read_text().count("\n") < 60):
        time.sleep(0.05)
    process.kill()
    process.wait(10)
    assert video_frames(record) >= 30


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="the fault cases stage Linux file systems and signals")
