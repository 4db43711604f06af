"""Settings that persist: XDG location, a broken file is one warning and the defaults, atomic writes, reset."""

from __future__ import annotations

from pathlib import Path

from arfilter.apps.settings import Settings, load_settings, reset_settings, save_settings, settings_path


def test_location_follows_xdg_config_home(tmp_path):
    assert settings_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "arfilter" / "settings.toml"
    # A relative XDG_CONFIG_HOME is invalid by the spec: the default applies.
    assert settings_path({"XDG_CONFIG_HOME": "relative"}) == Path.home() / ".config" / "arfilter" / "settings.toml"
    assert settings_path({}) == Path.home() / ".config" / "arfilter" / "settings.toml"


def test_saved_settings_come_back(tmp_path):
    path = tmp_path / "arfilter" / "settings.toml"
    chosen = Settings(pack="crown", show_bars=False, mirror=True, capture_hud=False, camera="/dev/video2")
    assert save_settings(chosen, path) == path
    assert load_settings(path) == chosen
    assert not list(path.parent.glob(".*partial")), "no temporary file left behind"
    save_settings(Settings(pack="emoji"), path)
    assert path.read_text() == 'pack = "emoji"\n'  # values never chosen are not written


def test_missing_file_is_the_defaults_silently(tmp_path):
    warnings: list[str] = []
    assert load_settings(tmp_path / "none.toml", warnings.append) == Settings()
    assert warnings == []


def test_broken_file_is_one_warning_and_the_defaults(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("pack = \n[[[")
    warnings: list[str] = []
    assert load_settings(path, warnings.append) == Settings()
    assert len(warnings) == 1 and str(path) in warnings[0] and "--reset-settings" in warnings[0]


def test_a_bad_value_loses_only_itself(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('pack = "crown"\nshow_bars = "no"\nmirror = 1\ncolour = "red"\n')
    warnings: list[str] = []
    assert load_settings(path, warnings.append) == Settings(pack="crown")
    assert len(warnings) == 1
    assert "show_bars = 'no'" in warnings[0] and "mirror = 1" in warnings[0] and "'colour'" in warnings[0]


def test_unreadable_bytes_are_one_warning(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_bytes(b"\xff\xfe\x00")
    warnings: list[str] = []
    assert load_settings(path, warnings.append) == Settings()
    assert len(warnings) == 1 and "not UTF-8" in warnings[0]


def test_reset_deletes_the_file(tmp_path):
    path = save_settings(Settings(pack="crown"), tmp_path / "settings.toml")
    assert reset_settings(path) == path and not path.exists()
    assert reset_settings(path) is None
