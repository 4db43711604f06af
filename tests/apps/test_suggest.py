"""Mistyped flags and names get "did you mean"."""

from __future__ import annotations

import pytest

from arfilter.apps.suggest import SuggestingParser
from arfilter.errors import did_you_mean


def test_closest_name_ignoring_case():
    assert did_you_mean("Shdes", ["emoji", "shades", "crown"]) == " (did you mean shades?)"
    assert did_you_mean("zzz", ["emoji", "shades"]) == ""


def test_unknown_flag_names_the_closest_one(capsys):
    parser = SuggestingParser(prog="arfilter")
    parser.add_argument("--source")
    parser.add_argument("--headless", action="store_true")
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--sorce", "clip.mp4", "--hedless"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == ("arfilter: error: unrecognized arguments: --sorce (did you mean --source?) clip.mp4 "
                     "--hedless (did you mean --headless?)")
