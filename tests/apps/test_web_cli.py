"""`arfilter serve` on the command line: flags, the warning for non-local hosts, a taken port."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("uvicorn", reason="the web app needs uvicorn (pip install -e .)")
import uvicorn

from arfilter.apps import cli


@pytest.fixture
def no_serving(monkeypatch):
    """uvicorn's loop replaced: returns at once, recording the address it was to serve on."""
    started = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: started.append(sockets[0].getsockname()))
    return started


def test_serve_help_lists_its_flags(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--host" in out and "--max-sessions" in out and "127.0.0.1" in out


@pytest.mark.parametrize("argv, message", [
    (["--max-sessions", "0"], "--max-sessions must be at least 1"),
    (["--port", "70000"], "--port must be 0..65535"),
    (["--headless"], "unrecognized arguments: --headless"),
    (["--source", "demo"], "unrecognized arguments: --source"),
    (["--max-faces", "0"], "--max-faces must be at least 1"),
])
def test_bad_flags_are_one_line_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", *argv])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_unknown_pack_stops_before_serving(capsys, no_serving):
    assert cli.main(["serve", "--pack", "nope", "--port", "0"]) == 2
    assert "no filter pack named 'nope'" in capsys.readouterr().err
    assert no_serving == []


def test_local_host_by_default_without_warning(capsys, no_serving):
    assert cli.main(["serve", "--port", "0", "--max-sessions", "2", "--pack", "shades"]) == 0
    err = capsys.readouterr().err
    assert "serving the live page at http://127.0.0.1:" in err and "warning" not in err
    assert no_serving[0][0] == "127.0.0.1"


def test_other_hosts_get_a_warning(capsys, no_serving):
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 0
    err = capsys.readouterr().err
    assert "warning: serving on 0.0.0.0" in err and "anyone who can reach this machine" in err


def test_a_taken_port_is_one_line(capsys, no_serving):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("arfilter: error: cannot listen on 127.0.0.1:") and "--port" in err
    assert "Traceback" not in err and no_serving == []
