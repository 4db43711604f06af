"""Faults at the command line's level: no display, nothing to write."""

from __future__ import annotations

from tests.faults import ASTRONAUT, one_error, run_cli

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
    code, _out, err = run_cli(capsys, "--source", ASTRONAUT, "--headless")
    assert code == 0
    assert len(err) == 2 and err[0].startswith("arfilter: warning: nothing was written: add one of --record OUT.mp4")
    assert "processed 1 frame(s)" in err[1]
