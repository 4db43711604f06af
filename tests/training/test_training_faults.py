"""Issue 21's training cases: bad CSV rows skipped and counted, a batch larger than the data, one
label, zero epochs and a resume with other flags refused in one line, bounded image reads."""

from __future__ import annotations

import json
import os

import pytest

from tests.training.test_training_data import pixels, write_csv, write_image_folder
from training.data import DataError, load_csv, load_image_folder


@pytest.mark.parametrize("tail, reason", [
    (b"3\n", "missing or not integers"),
    (b"3," + " ".join(["7"] * 2303).encode() + b" \xff,Training\n", "missing or not integers"),
    (b"3," + " ".join(["7"] * 2303).encode() + b" 12345678901234567890123,Training\n", "missing or not integers"),
    (b"3,\"" + b"7 \0" * 10 + b"\",Training\n", ""),
], ids=["short-last-line", "non-utf8-byte", "23-digit-value", "nul-byte"])
def test_bad_csv_rows_are_skipped_and_counted(tmp_path, tail, reason):
    path = tmp_path / "fer2013.csv"
    write_csv(path, [(3, pixels(7), "Training")])
    with path.open("ab") as handle:
        handle.write(tail)
    datasets = load_csv(path)
    assert len(datasets["train"]) == 1
    assert len(datasets["train"].skipped) == 1, datasets["train"].skipped
    assert reason in datasets["train"].skipped[0]


def test_a_huge_file_named_like_a_face_is_skipped_without_reading_it(tmp_path):
    write_image_folder(tmp_path / "train", per_label=1)
    with open(tmp_path / "train" / "happy" / "huge.png", "wb") as file:
        file.truncate(3 * 1024**3)
    dataset = load_image_folder(tmp_path / "train")
    assert len(dataset) == 7
    assert len(dataset.skipped) == 1 and "huge.png" in dataset.skipped[0] and "MB" in dataset.skipped[0]


def test_a_csv_that_is_not_a_regular_file_is_one_line(tmp_path):
    fifo = tmp_path / "fer2013.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="not a regular file"):
        load_csv(fifo)


@pytest.mark.parametrize("flag, value", [("--epochs", "0"), ("--batch-size", "0")])
def test_zero_epochs_or_batch_size_is_a_usage_error(capsys, flag, value):
    from training import train

    with pytest.raises(SystemExit) as exit_:
        train.parse_args([flag, value])
    assert exit_.value.code == 2
    assert f"{flag} {value}: must be 1 or more" in capsys.readouterr().err


def test_a_resume_with_other_flags_names_them(tmp_path):
    from training import train

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    args = train.parse_args(["--run-dir", str(run_dir), "--resume", "--width", "0.5", "--batch-size", "32"])
    recorded = {key: str(value) for key, value in vars(train.parse_args(["--run-dir", str(run_dir)])).items()}
    (run_dir / "command.json").write_text(json.dumps({"command": "python training/train.py", "args": recorded}))
    with pytest.raises(DataError) as caught:
        train.check_resume_flags(args)
    message = str(caught.value)
    assert "--width 1.0 --batch-size 64, not --width 0.5 --batch-size 32" in message
    assert "--depth" not in message and "\n" not in message
    train.check_resume_flags(train.parse_args(["--run-dir", str(run_dir), "--resume"]))  # the same flags pass


def test_a_run_that_would_delete_or_overwrite_its_own_input_is_refused(tmp_path):
    from training import train

    run_dir, models_dir = tmp_path / "run", tmp_path / "models"
    run_dir.mkdir()
    models_dir.mkdir()
    (run_dir / "best.keras").write_bytes(b"weights")
    (models_dir / "emotion.keras").write_bytes(b"teacher")
    args = train.parse_args(["--run-dir", str(run_dir), "--init-weights", str(run_dir / "best.keras")])
    with pytest.raises(DataError, match=r"--init-weights .*best.keras is .*, which this run writes; pass another --run-dir"):
        train.check_inputs_survive(args)
    args = train.parse_args(["--run-dir", str(tmp_path / "other"), "--models-dir", str(models_dir),
                             "--teacher", str(models_dir / "emotion.keras")])
    with pytest.raises(DataError, match="pass another --models-dir"):
        train.check_inputs_survive(args)
    train.check_inputs_survive(train.parse_args(["--run-dir", str(tmp_path / "other"), "--models-dir",
                                                 str(models_dir), "--teacher", str(models_dir / "emotion.keras"),
                                                 "--no-export"]))
    assert (run_dir / "best.keras").read_bytes() == b"weights"


tensorflow = pytest.importorskip("tensorflow", reason="training runs need TensorFlow (pip install -e .[train])")


def train_main(*argv: object) -> int:
    from training import train

    return train.main([str(arg) for arg in argv])


def test_a_batch_larger_than_the_data_is_refused(tmp_path, capsys):
    write_image_folder(tmp_path / "data" / "train", per_label=2)
    write_image_folder(tmp_path / "data" / "val", per_label=1)
    code = train_main("--data", tmp_path / "data", "--run-dir", tmp_path / "run", "--batch-size", "64", "--epochs", "1")
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1
    assert "--batch-size 64 is larger than the 14 training images" in err[0]
    assert not (tmp_path / "run" / "best.keras").exists()


def test_one_label_is_refused(tmp_path, capsys):
    write_image_folder(tmp_path / "data" / "train", per_label=8, labels=("happy",))
    write_image_folder(tmp_path / "data" / "val", per_label=2, labels=("happy",))
    code = train_main("--data", tmp_path / "data", "--run-dir", tmp_path / "run", "--batch-size", "4", "--epochs", "1")
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1 and "one label only (happy)" in err[0]
