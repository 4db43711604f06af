"""How `arfilter serve` runs, free of the web stack: the command line reads its defaults from
here without importing FastAPI, so `arfilter --help` and the headless path stay light."""

from __future__ import annotations

from dataclasses import dataclass, field

from arfilter.apps.web.uploads import UploadLimits

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

@dataclass(frozen=True)
class ServeOptions:
    """How `arfilter serve` runs; the CLI reads its defaults from here.

    host: 127.0.0.1 keeps the server to this machine; anything else exposes the camera page
        and the API to the network, and is announced with a warning.
    max_sessions: live page connections processed at once; each holds its own lens
        (about 10 MB) and one CPU core while frames come in.
    busy_retry_s: how long the page waits before retrying when all sessions are taken.
    allowed_hosts: host names besides 127.0.0.1, localhost and [::1] that a server bound to this
        machine answers to: the public name of an https reverse proxy in front of it.
    idle_timeout_s: a live connection that sends nothing (no frame, no message) for this long
        is closed, so connections left open by idle clients never hold every slot.
    body_timeout_s: an upload must arrive whole within this, so slow senders hold nothing long.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    max_sessions: int = 4
    limits: UploadLimits = field(default_factory=UploadLimits)
    jpeg_quality: int = 80
    busy_retry_s: float = 3.0
    allowed_hosts: tuple[str, ...] = ()
    idle_timeout_s: float = 60.0
    body_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_sessions < 1:
            raise ValueError(f"max_sessions must be at least 1, got {self.max_sessions}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535, got {self.port}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be 1..100, got {self.jpeg_quality}")
        if self.idle_timeout_s <= 0 or self.body_timeout_s <= 0:
            raise ValueError(f"timeouts must be positive, got {self.idle_timeout_s} and {self.body_timeout_s}")
