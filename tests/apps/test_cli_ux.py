"""The command line as a user meets it: --version, typos, pack names in any case, the report, a folder of
videos, and the window's remembered settings."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest

from arfilter.apps.settings import Settings, load_settings, save_settings, settings_path
from tests.apps.test_cli import astronaut, clip, run_cli  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def own_config(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_version_comes_from_the_package_metadata(capsys) -> None:
    from importlib.metadata import version

    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.strip() == f"arfilter {version('arfilter')}"


def test_a_mistyped_flag_gets_a_suggestion(capsys) -> None:
    code, _, err = run_cli(capsys, "--sorce", "demo")
    assert code == 2 and err[-1] == "arfilter: error: unrecognized arguments: --sorce (did you mean --source?)"


def test_pack_names_ignore_case_and_typos_get_a_suggestion(tmp_path, capsys) -> None:
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "1", "--pack", "Shades",
                           "--json", tmp_path / "out.jsonl")
    assert code == 0, err
    code, _, err = run_cli(capsys, "--source", "demo", "--headless", "--max-frames", "1", "--pack", "shdes")
    assert code == 2 and "no filter pack named 'shdes' (did you mean shades?)" in err[-1]


def test_report_of_a_clip_with_full_paths_in_the_summary(tmp_path, capsys, clip) -> None:  # noqa: F811
    report, json_path = tmp_path / "report.html", tmp_path / "out.jsonl"
    code, _out, err = run_cli(capsys, "--source", clip, "--headless", "--report", report, "--json", json_path)
    assert code == 0, err
    assert f"wrote {report.resolve()} (report of 1 face)" in err  # the summary is a message: stderr
    assert f"wrote {json_path.resolve()} (10 lines)" in err
    page = report.read_text()
    assert page.count('<section class="face"') == 1 and "<th>pack</th><td>emoji</td>" in page
    assert f"<th>source</th><td>{clip}</td>" in page


def test_a_folder_of_videos_gets_outputs_per_video_and_skips_complete_ones(tmp_path, capsys, clip) -> None:  # noqa: F811
    videos, out = tmp_path / "videos", tmp_path / "out"
    videos.mkdir()
    for name in ("first.mp4", "second.mp4"):
        shutil.copy(clip, videos / name)
    code, stdout, err = run_cli(capsys, "--source", videos, "--headless", "--out-dir", out, "--max-frames", "3")
    assert code == 0, err
    assert sorted(path.name for path in out.iterdir()) == [
        "arfilter-summary.json", "first.html", "first.jsonl", "first.mp4", "second.html", "second.jsonl", "second.mp4"]
    assert "2 video(s)" in stdout and "2 processed (6 frames" in stdout
    assert len((out / "first.jsonl").read_text().splitlines()) == 3
    code, stdout, err = run_cli(capsys, "--source", videos, "--headless", "--out-dir", out)
    assert code == 0 and "0 processed" in stdout and "2 skipped as complete" in stdout
    summary = json.loads((out / "arfilter-summary.json").read_text())
    assert set(summary["videos"]) == {"first.mp4", "second.mp4"}


def test_a_folder_of_videos_needs_out_dir_alone(tmp_path, capsys, clip) -> None:  # noqa: F811
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(clip, videos / "a.mp4")
    code, _, err = run_cli(capsys, "--source", videos, "--headless", "--json", tmp_path / "x.jsonl")
    assert code == 2 and "folder of videos: pass --out-dir DIR alone" in err[-1] and "not --json" in err[-1]
    code, _, err = run_cli(capsys, "--source", videos, "--headless", "--out-dir", videos)
    assert code == 2 and "could overwrite them" in err[-1]


def test_reset_settings_forgets_the_remembered_choices(capsys) -> None:
    save_settings(Settings(pack="party"))
    code, out, _ = run_cli(capsys, "--reset-settings", "--list-packs")
    assert code == 0 and f"({settings_path()} deleted)" in out
    assert load_settings() == Settings()


def test_the_window_starts_with_the_remembered_choices_and_flags_win(monkeypatch, capsys) -> None:
    from arfilter.apps.window import launch

    started = {}

    def fake_run_app(lens, source_factory, options, remember=None):
        started.update(pack=lens.packs.current, bars=options.show_bars, capture_hud=options.capture_hud)
        remember(Settings(pack="party"))
        return 0

    monkeypatch.setattr(launch, "display_unavailable_reason", lambda: None)
    monkeypatch.setattr(launch, "run_app", fake_run_app)
    save_settings(Settings(pack="Shades", show_bars=False, capture_hud=True))
    code, _, err = run_cli(capsys)
    assert code == 0, err
    assert started == {"pack": "shades", "bars": False, "capture_hud": True}
    assert load_settings().pack == "party", "a choice made in the window is saved"
    code, _, _ = run_cli(capsys, "--pack", "emoji")
    assert started["pack"] == "emoji", "a flag wins over the remembered choice"
    save_settings(Settings(pack="gone"))
    code, _, err = run_cli(capsys)
    assert started["pack"] == "emoji" and "the pack 'gone' shown last is gone" in err[-1]
