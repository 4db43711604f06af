"""The fault suite: what a careful new user can do wrong, and what a hostile world does to a run.

Every case asserts the exit code, the one line the user sees, that every input is byte-identical
afterwards, and that every output is complete: each MP4 decodes (frames counted with OpenCV),
each JSON Lines file parses line by line. Inputs are generated here (videos with OpenCV, packs
with PIL), so the suite needs no shared data; it runs in well under a minute.

Permission cases need a user that permissions stop. Tests run as root here, and chmod does not
stop root, so those runs go through `setpriv` with the two capabilities that bypass file
permissions dropped; where neither works the test skips and says why.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from arfilter.cli import main
from arfilter.errors import OutputError, PackError
from arfilter.labels import EMOTION_LABELS
from arfilter.packs import BUILTIN_PACKS_DIR, MAX_PACK_LAYERS, discover_packs, load_pack
from arfilter.sinks.jsonl import JsonLinesSink

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASTRONAUT = Path(__file__).parent / "data" / "astronaut.png"
CLIP_FRAMES = 120
CLIP_SIZE = (160, 120)


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def no_user_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, list[str]]:
    capsys.readouterr()
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


def one_error(code: int, err: list[str], *names: object, exit_code: int = 2) -> str:
    assert code == exit_code, err
    assert len(err) == 1, f"expected one stderr line, got {err}"
    assert err[0].startswith("arfilter: error: "), err
    for name in names:
        assert str(name) in err[0], err[0]
    return err[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def json_lines(path: Path) -> list[dict]:
    """Every line must parse: a torn or half-written line fails here."""
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "the last line is incomplete"
    return [json.loads(line) for line in text.splitlines()]


def video_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"{path} does not open: not finalised"
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    return frames


def write_clip(path: Path, fourcc: str = "mp4v", frames: int = CLIP_FRAMES) -> Path:
    """A clip with a face (the astronaut, small) and per-frame noise, so frames compress apart."""
    face = cv2.resize(cv2.imread(str(ASTRONAUT)), CLIP_SIZE)
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), 30.0, CLIP_SIZE)
    assert writer.isOpened()
    for _ in range(frames):
        noise = rng.integers(0, 24, face.shape, dtype=np.uint8)
        writer.write(cv2.add(face, noise))
    writer.release()
    return path


def damage(path: Path, start: float, stop: float, seed: int = 1) -> None:
    """Overwrite the bytes between fractions `start` and `stop` of the file with noise."""
    data = bytearray(path.read_bytes())
    first, last = int(len(data) * start), int(len(data) * stop)
    data[first:last] = np.random.default_rng(seed).integers(0, 256, last - first, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def decodable_frames(path: Path) -> int:
    """Frames OpenCV can decode when it keeps reading past failures up to the frame count."""
    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    good = sum(1 for _ in range(count) if capture.read()[0])
    capture.release()
    return good


def rgba_png(path: Path, size: tuple[int, int] = (8, 8)) -> Path:
    Image.fromarray(np.full((size[1], size[0], 4), 255, np.uint8)).save(path)
    return path


def write_pack(folder: Path, name: str, images: list[str] | None = None, manifest: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    images = images if images is not None else ["dot.png"]
    layers = "".join(f'[[emotions.default.layers]]\nimage = "{image}"\nanchor = "nose_tip"\nscale = 1.0\n\n'
                     for image in images)
    (folder / "pack.toml").write_text(manifest if manifest is not None else f'name = "{name}"\n\n{layers}')
    for image in images:
        if "\\" not in image and "/" not in image and len(image.encode()) <= 255:
            rgba_png(folder / image)
    return folder


SETPRIV = shutil.which("setpriv")


def unprivileged_command(argv: list[str]) -> list[str]:
    """`argv` run by a user that file permissions stop; skips when this cannot be arranged."""
    if os.geteuid() != 0:
        return argv
    if SETPRIV is None:
        pytest.skip("running as root without setpriv: permissions do not stop root, so this case cannot be staged")
    return [SETPRIV, "--bounding-set", "-dac_override,-dac_read_search", "--", *argv]


def cli_process(*argv: object, env: dict[str, str] | None = None, privileged: bool = True) -> list[str]:
    command = [sys.executable, str(PROJECT_ROOT / "main.py"), *[str(arg) for arg in argv]]
    return command if privileged else unprivileged_command(command)


def subprocess_env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", XDG_CONFIG_HOME=str(tmp_path / "config"),
                PYTHONPATH=str(PROJECT_ROOT))


def run_process(tmp_path: Path, *argv: object, privileged: bool = True) -> tuple[int, str, list[str]]:
    completed = subprocess.run(cli_process(*argv, privileged=privileged), capture_output=True, text=True,
                               env=subprocess_env(tmp_path), timeout=60)
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed.returncode, completed.stdout, completed.stderr.splitlines()


@pytest.fixture
def locked_folder(tmp_path: Path):
    """A folder with a file inside that its owner (and an unprivileged root) cannot enter."""
    folder = tmp_path / "locked"
    folder.mkdir()
    shutil.copy(ASTRONAUT, folder / "photo.png")
    folder.chmod(0o000)
    yield folder
    folder.chmod(0o755)


# --------------------------------------------------------------------------- 1. outputs never overwrite inputs


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "clip.mp4", frames=12)


@pytest.mark.parametrize("flag", ["--json", "--record"])
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_an_output_onto_the_source_video_is_refused(tmp_path, capsys, clip, flag, link):
    before = digest(clip)
    target = {"same": clip, "symlink": tmp_path / "link.mp4", "hardlink": tmp_path / "hard.mp4"}[link]
    if link == "symlink":
        target.symlink_to(clip)
    elif link == "hardlink":
        os.link(clip, target)
    code, _, err = run_cli(capsys, "--source", clip, "--headless", flag, target)
    line = one_error(code, err, flag, target, "would overwrite it", "pass another file")
    assert digest(clip) == before
    assert (".jsonl" if flag == "--json" else "-annotated.mp4") in line


def test_an_image_folder_output_onto_its_source_folder_is_refused(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        shutil.copy(ASTRONAUT, photos / name)
    before = {path.name: digest(path) for path in photos.iterdir()}
    code, _, err = run_cli(capsys, "--source", photos, "--headless", "--out-dir", photos)
    one_error(code, err, "--out-dir", "photos-annotated")
    code, _, err = run_cli(capsys, "--source", photos / "a.png", "--headless", "--out-dir", photos, "--json",
                           tmp_path / "out.jsonl")
    one_error(code, err, "--out-dir", photos / "a.png")
    assert {path.name: digest(path) for path in photos.iterdir()} == before
    assert not (tmp_path / "out.jsonl").exists(), "nothing is written before the refusal"


def test_json_and_record_on_one_file_are_refused(tmp_path, capsys):
    out = tmp_path / "out.mp4"
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--json", out, "--record", out)
    one_error(code, err, "--record and --json", out)
    assert not out.exists()


def test_a_recording_that_is_not_mp4_names_the_real_cause(tmp_path, capsys):
    code, _, err = run_cli(capsys, "--source", ASTRONAUT, "--headless", "--record", tmp_path / "out.avi")
    one_error(code, err, "MP4", "--record", tmp_path / "out.mp4")
    assert not (tmp_path / "out.avi").exists()


def test_a_one_pixel_frame_cannot_be_recorded_and_says_why(tmp_path, capsys):
    dot = tmp_path / "dot.png"
    cv2.imwrite(str(dot), np.zeros((1, 1, 3), np.uint8))
    json_path = tmp_path / "dot.jsonl"
    code, _, err = run_cli(capsys, "--source", dot, "--headless", "--record", tmp_path / "dot.mp4", "--json", json_path)
    one_error(code, err, "1x1 px", "at least 2x2")
    json_lines(json_path)  # whatever was written parses


# --------------------------------------------------------------------------- 2. signals finalise every output


def messages(stderr: str) -> list[str]:
    """The stderr lines other than the progress lines a slow (loaded) machine prints every 2 s."""
    return [line for line in stderr.splitlines() if not re.match(r"\d+ frames, [\d.]+ frames/s$", line)]


def demo_run_under_way(tmp_path: Path, lines: int) -> tuple[subprocess.Popen[str], Path, Path]:
    """A real headless run on the demo, recording and writing JSON, once it has written `lines` lines."""
    record, json_path = tmp_path / "demo.mp4", tmp_path / "demo.jsonl"
    process = subprocess.Popen(cli_process("--source", "demo", "--headless", "--record", record, "--json", json_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(tmp_path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not json_path.exists() or json_path.read_text().count("\n") < lines):
        time.sleep(0.05)
    return process, record, json_path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_a_signal_leaves_a_playable_recording_and_complete_json(tmp_path, signum):
    process, record, json_path = demo_run_under_way(tmp_path, lines=10)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    lines = messages(stderr)
    assert lines == [f"arfilter: interrupted by {signal.Signals(signum).name}; "
                     "the outputs written so far are complete and kept"], stderr
    records = json_lines(json_path)
    assert len(records) >= 10
    assert [record["frame"] for record in records] == list(range(len(records)))
    frames = video_frames(record)
    # The frame being processed when the signal came may be in the video and not yet in the JSON.
    assert len(records) <= frames <= len(records) + 1


def test_a_second_signal_during_finalising_is_ignored(tmp_path):
    """An impatient double Ctrl-C (or TERM then HUP) must not break the file being saved."""
    process, record, json_path = demo_run_under_way(tmp_path, lines=5)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGHUP)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode in (128 + signal.SIGTERM, 128 + signal.SIGHUP, 130), stderr
    assert "Traceback" not in stderr and len(messages(stderr)) == 1, stderr
    assert video_frames(record) >= len(json_lines(json_path)) >= 5


# --------------------------------------------------------------------------- 3. damaged videos


def test_a_damaged_stretch_is_skipped_and_the_run_goes_to_the_end(tmp_path, capsys):
    video = write_clip(tmp_path / "damaged.mp4")
    damage(video, 0.2, 0.6)
    before, decodable = digest(video), decodable_frames(video)
    assert 20 < decodable < CLIP_FRAMES - 30, "the damage must hit a long stretch (more than 30 frames) in the middle"
    json_path, record = tmp_path / "out.jsonl", tmp_path / "out.mp4"
    code, out, err = run_cli(capsys, "--source", video, "--headless", "--json", json_path, "--record", record)
    assert code == 0, err
    records = json_lines(json_path)
    assert len(records) == decodable, "every decodable frame after the damage is processed"
    assert records[-1]["frame"] == CLIP_FRAMES - 1
    skipped = CLIP_FRAMES - decodable
    assert len(err) == 1 and err[0].startswith("arfilter: warning: ") and f"skipped {skipped} unreadable frame(s)" in err[0]
    assert "first at frame" in err[0] and "last at frame" in err[0]
    assert f"processed {decodable} frame(s)" in out
    assert decodable <= video_frames(record) <= CLIP_FRAMES  # gaps keep their time, as repeated frames
    assert digest(video) == before


def _atoms(data: bytes | bytearray, start: int, end: int):
    """(kind, offset, header length, size) of the MP4 boxes between `start` and `end`."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position:position + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[position + 8:position + 16])[0], 16
        yield kind, position, header, size or end - position
        position += size or end - position


def index_first(path: Path) -> None:
    """Move an MP4's index (moov) in front of its data, as web video is served ("faststart"),
    so that a partial download opens and plays up to where it stops."""
    data = path.read_bytes()
    boxes = list(_atoms(data, 0, len(data)))
    _, moov_at, _, moov_size = next(box for box in boxes if box[0] == b"moov")
    moov = bytearray(data[moov_at:moov_at + moov_size])

    def shift_chunk_offsets(start: int, end: int) -> None:
        for kind, position, header, size in _atoms(moov, start, end):
            if kind in (b"trak", b"mdia", b"minf", b"stbl"):
                shift_chunk_offsets(position + header, position + size)
            elif kind == b"stco":
                count = struct.unpack(">I", moov[position + 12:position + 16])[0]
                for at in range(position + 16, position + 16 + 4 * count, 4):
                    moov[at:at + 4] = struct.pack(">I", struct.unpack(">I", moov[at:at + 4])[0] + len(moov))

    shift_chunk_offsets(8, len(moov))
    reordered = bytearray()
    for kind, position, _, size in boxes:
        if kind == b"mdat":
            reordered += moov
        if kind != b"moov":
            reordered += data[position:position + size]
    path.write_bytes(bytes(reordered))


@pytest.mark.parametrize("name", ["partial.mp4", "partial.avi"])
def test_a_file_that_ends_early_exits_non_zero_with_a_warning(tmp_path, capsys, name):
    """A partly downloaded file: an MP4 with its index first (as web video is served), and
    MJPG in AVI, which announces its frame count in the header; both play up to the cut."""
    video = write_clip(tmp_path / name, fourcc="mp4v" if name.endswith(".mp4") else "MJPG")
    if name.endswith(".mp4"):
        index_first(video)
    video.write_bytes(video.read_bytes()[: video.stat().st_size * 6 // 10])
    before, decodable = digest(video), decodable_frames(video)
    assert 0 < decodable < CLIP_FRAMES - 10
    json_path = tmp_path / "out.jsonl"
    code, out, err = run_cli(capsys, "--source", video, "--headless", "--json", json_path)
    assert code == 3, err
    assert f"processed {decodable} frame(s)" in out
    assert len(err) == 1 and "ended early" in err[0] and f"of the {CLIP_FRAMES}" in err[0], err
    assert f"frames {decodable}-{CLIP_FRAMES - 1}" in err[0]
    assert len(json_lines(json_path)) == decodable
    assert digest(video) == before


def test_a_truncated_mp4_without_its_index_is_one_line(tmp_path, capsys):
    video = write_clip(tmp_path / "cut.mp4", frames=20)
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    before = digest(video)
    code, _, err = run_cli(capsys, "--source", video, "--headless", "--json", tmp_path / "out.jsonl")
    one_error(code, err, video, "not a readable video")
    assert digest(video) == before


# --------------------------------------------------------------------------- 4-5. packs


def test_pack_faults_are_one_warning_each_and_the_rest_load(tmp_path):
    packs = tmp_path / "packs"
    write_pack(packs / "good", "good")
    write_pack(packs / "nul", "nul", images=["a\\u0000b.png"])
    write_pack(packs / "long", "long", images=["x" * 300 + ".png"])
    write_pack(packs / "empty-layers", "empty-layers", manifest='name = "empty-layers"\n[emotions.default]\nlayers = []\n')
    outside = tmp_path / "outside.toml"
    outside.write_text('name = "outside"\n')
    (packs / "toml-link").mkdir()
    (packs / "toml-link" / "pack.toml").symlink_to(outside)
    loaded, errors = discover_packs(BUILTIN_PACKS_DIR, [packs], EMOTION_LABELS)
    assert [pack.name for pack in loaded] == ["emoji", "party", "shades", "good"]
    assert len(errors) == 4 and all("\n" not in error for error in errors), errors
    by_pack = {Path(error.split(":")[0]).parent.name: error for error in errors}
    assert "must be a non-empty list" in by_pack["empty-layers"]
    assert "too long" in by_pack["long"]
    assert "NUL" in by_pack["nul"]
    assert "links outside the pack folder" in by_pack["toml-link"]


def test_an_unexpected_error_in_one_pack_is_a_warning(tmp_path, monkeypatch):
    import arfilter.packs as packs_module

    write_pack(tmp_path / "packs" / "buggy", "buggy")
    original = packs_module.load_pack

    def load(folder, labels):
        if Path(folder).name == "buggy":
            raise RuntimeError("a bug")
        return original(folder, labels)

    monkeypatch.setattr(packs_module, "load_pack", load)
    loaded, errors = discover_packs(BUILTIN_PACKS_DIR, [tmp_path / "packs"], EMOTION_LABELS)
    assert [pack.name for pack in loaded] == ["emoji", "party", "shades"]
    assert errors == [f"{tmp_path / 'packs' / 'buggy'}: cannot load the pack (RuntimeError: a bug)"]


def test_a_pack_over_budget_is_refused_before_decoding(tmp_path):
    """40 distinct blank 2048 px PNGs: under 1 MB on disk, over 600 MB decoded."""
    folder = tmp_path / "huge"
    names = [f"blank{index}.png" for index in range(40)]
    write_pack(folder, "huge", images=names)
    Image.new("RGBA", (2048, 2048), (0, 0, 0, 0)).save(folder / names[0])
    for name in names[1:]:  # forty files, each decoded on its own: copies cost nothing to make
        shutil.copy(folder / names[0], folder / name)
    start = time.perf_counter()
    with pytest.raises(PackError, match=r"Mpx; a pack may hold at most 16 Mpx") as caught:
        load_pack(folder, EMOTION_LABELS)
    assert time.perf_counter() - start < 3.0, "refused from the headers, not by decoding"
    assert "\n" not in str(caught.value)
    many = write_pack(tmp_path / "many", "many", images=["dot.png"] * (MAX_PACK_LAYERS + 1))
    with pytest.raises(PackError, match=f"at most {MAX_PACK_LAYERS}"):
        load_pack(many, EMOTION_LABELS)


def corrupt_pixels_keep_checksums(path: Path) -> None:
    """Scramble a PNG's compressed pixels but recompute the chunk CRCs: the header and the
    checksums verify, decoding fails. That is a pack only found broken when it is drawn."""
    data = bytearray(path.read_bytes())
    position = 8
    while position < len(data):
        length = struct.unpack(">I", data[position:position + 4])[0]
        kind = bytes(data[position + 4:position + 8])
        body = position + 8
        if kind == b"IDAT":
            data[body + 2:body + length] = b"\xff" * (length - 2)
            data[body + length:body + length + 4] = struct.pack(">I", zlib.crc32(data[position + 4:body + length]))
        position = body + length + 4
    path.write_bytes(bytes(data))


def test_packs_not_in_use_are_not_decoded_and_a_broken_one_is_dropped_when_chosen(tmp_path):
    from arfilter.pipeline import Pipeline, PipelineOptions

    folder = write_pack(tmp_path / "packs" / "late", "late", images=["big.png"])
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 4), dtype=np.uint8)).save(folder / "big.png")
    corrupt_pixels_keep_checksums(folder / "big.png")
    packs, errors = discover_packs(BUILTIN_PACKS_DIR, [tmp_path / "packs"], EMOTION_LABELS)
    assert errors == [] and [pack.name for pack in packs][-1] == "late"
    assert all(layer.png._sprite is None for pack in packs for layers in pack.layers_by_label.values() for layer in layers)

    class NoTracker:
        def update(self, image, is_still=False):
            return []

        def reset(self):
            pass

    pipeline = Pipeline(PipelineOptions(pack="shades"), tracker=NoTracker(), classifier=object(), packs=packs)
    assert [pipeline.packs.next() for _ in range(3)] == ["emoji", "party", "shades"], "late is dropped on the way"
    assert pipeline.packs.names == ["emoji", "party", "shades"]
    assert len(pipeline.packs.errors) == 1 and "late" in pipeline.packs.errors[0] and "cannot decode PNG" in pipeline.packs.errors[0]
    with pytest.raises(PackError, match="cannot decode PNG"):
        Pipeline(PipelineOptions(pack="late"), tracker=NoTracker(), classifier=object(),
                 packs=discover_packs(BUILTIN_PACKS_DIR, [tmp_path / "packs"], EMOTION_LABELS)[0])


def test_a_reader_that_leaves_early_stops_the_listing_quietly(tmp_path):
    """`arfilter --list-packs | head -1`: no traceback when the pipe closes; the SIGPIPE exit status."""
    process = subprocess.Popen(cli_process("--list-packs"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=subprocess_env(tmp_path))
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert error == ""


def test_list_packs_survives_every_broken_user_pack(tmp_path):
    user_packs = tmp_path / "config" / "arfilter" / "packs"
    write_pack(user_packs / "nul", "nul", images=["a\\u0000b.png"])
    write_pack(user_packs / "long", "long", images=["y" * 300 + ".png"])
    code, out, err = run_process(tmp_path, "--list-packs")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["emoji", "party", "shades"]
    assert len(err) == 2 and all(line.startswith("arfilter: warning: skipped filter pack: ") for line in err), err


def test_a_pack_image_in_an_unreadable_folder_is_one_warning(tmp_path):
    folder = write_pack(tmp_path / "config" / "arfilter" / "packs" / "locked", "locked", images=["sub/dot.png"],
                        manifest='name = "locked"\n[[emotions.default.layers]]\nimage = "sub/dot.png"\n'
                                 'anchor = "nose_tip"\nscale = 1.0\n')
    (folder / "sub").mkdir()
    rgba_png(folder / "sub" / "dot.png")
    (folder / "sub").chmod(0o000)
    try:
        code, out, err = run_process(tmp_path, "--list-packs", privileged=False)
    finally:
        (folder / "sub").chmod(0o755)
    assert code == 0 and len(out.splitlines()) == 3, (out, err)
    assert len(err) == 1 and "locked" in err[0] and "permission denied" in err[0], err


# --------------------------------------------------------------------------- 6. one line instead of a traceback


def test_a_full_disk_while_writing_json_is_one_line_and_the_recording_still_plays(tmp_path, capsys):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this platform; the fake full disk below covers the logic")
    record = tmp_path / "out.mp4"
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "5", "--record", record,
                           "--json", "/dev/full")
    one_error(code, err, "/dev/full", "no space left")
    # The video got the first frame before the JSON write failed; the error still finalised it.
    assert video_frames(record) == 1


def test_a_disk_that_fills_mid_line_keeps_only_complete_lines(tmp_path, monkeypatch):
    path = tmp_path / "out.jsonl"
    writer = JsonLinesSink(path)
    writer.write_record({"frame": 0, "value": float("nan")})
    real_write = os.write

    def full_after_ten_bytes(fd, data):
        real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full_after_ten_bytes)
    with pytest.raises(OutputError, match="no space left on the device"):
        writer.write_record({"frame": 1, "faces": []})
    monkeypatch.undo()
    writer.close()
    assert json_lines(path) == [{"frame": 0, "value": None}], "the torn line is cut off and NaN became null"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: "²", "no such file or folder: ²"),
        (lambda tmp: str(tmp / ("n" * 300 + ".mp4")), "name too long"),
        (lambda tmp: _symlink_loop(tmp), "symlink loop"),
        (lambda tmp: _dangling(tmp), "which does not exist"),
    ],
    ids=["superscript-digit", "name-over-255-bytes", "symlink-loop", "dangling-symlink"],
)
def test_bad_source_paths_are_one_line(tmp_path, capsys, make, expected):
    source = make(tmp_path)
    code, _, err = run_cli(capsys, "--source", source, "--headless", "--json", tmp_path / "out.jsonl")
    one_error(code, err, expected)


def _symlink_loop(tmp: Path) -> str:
    (tmp / "a.mp4").symlink_to(tmp / "b.mp4")
    (tmp / "b.mp4").symlink_to(tmp / "a.mp4")
    return str(tmp / "a.mp4")


def _dangling(tmp: Path) -> str:
    (tmp / "gone.mp4").symlink_to(tmp / "never-there.mp4")
    return str(tmp / "gone.mp4")


def test_a_source_in_an_unreadable_folder_is_one_line(tmp_path, locked_folder):
    code, _, err = run_process(tmp_path, "--source", locked_folder / "photo.png", "--headless", "--json",
                               tmp_path / "out.jsonl", privileged=False)
    one_error(code, err, "permission denied", locked_folder / "photo.png")


def test_an_output_in_a_read_only_folder_is_one_line_and_nothing_is_written(tmp_path):
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        code, _, err = run_process(tmp_path, "--source", ASTRONAUT, "--headless", "--json", read_only / "out.jsonl",
                                   privileged=False)
    finally:
        read_only.chmod(0o755)
    one_error(code, err, read_only, "not writable")
    assert list(read_only.iterdir()) == []


# --------------------------------------------------------------------------- 7. model metadata


def model_copy(tmp_path: Path, change, model_source: Path | None = None) -> Path:
    """A copy of the shipped emotion model whose metadata `change` edits; returns emotion.json."""
    from arfilter.resources import MODELS_DIR

    folder = tmp_path / "model"
    folder.mkdir()
    metadata = json.loads((MODELS_DIR / "emotion.json").read_text())
    shutil.copy(model_source or MODELS_DIR / metadata["model_file"], folder / metadata["model_file"])
    change(metadata)
    path = folder / "emotion.json"
    path.write_text(json.dumps(metadata))  # allow_nan: NaN is written as the bare token a broken export would write
    return path


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


# --------------------------------------------------------------------------- 8. smaller ones


def test_without_a_display_a_named_missing_source_is_an_error_not_the_demo(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "--source", tmp_path / "missing.mp4")
    one_error(code, err, "no such file or folder", "missing.mp4")
    code, _, err = run_cli(capsys, "--source", ASTRONAUT)
    one_error(code, err, "no window can open", "--headless")
    assert list(tmp_path.iterdir()) == [], "no demo screenshot or recording was written instead"


def test_headless_without_outputs_says_that_nothing_was_written(tmp_path, capsys):
    code, out, err = run_cli(capsys, "--source", ASTRONAUT, "--headless")
    assert code == 0
    assert len(err) == 1 and err[0].startswith("arfilter: warning: nothing was written: add one of --record OUT.mp4")
    assert "processed 1 frame(s)" in out
