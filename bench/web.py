"""Benchmark of `arfilter serve` on loopback: live WebSocket clients and /api/analyze.

    python -m bench.web                      # 10 s per live scenario
    python -m bench.web --seconds 30 --json web.json
    python -m bench.web --browser --screenshot docs/web.png   # also the real page in headless Chromium

The server is the real command (`python -m arfilter serve --port 0`) in its own process,
bound to 127.0.0.1. Clients stream the built-in demo (640x480, two faces, JPEG quality 80 as
the page's canvas.toBlob sends) the way the page does with a 30 frames/s camera: each camera
frame sent once, skipped while two frames await their results, every returned JPEG decoded
(what the page does before showing it). Scenarios:

- one client, composited frames (what the page uses): frames/s shown, round trip p50/p95,
  bytes per frame up and down;
- one client, results only (`image` off, the JSON the page would need to draw placements
  itself): the same figures, to price the composited choice in latency and bandwidth;
- `--clients` (default four) clients at once, composited: frames/s of each, errors;
- POST /api/analyze on a 640x480 JPEG with one face: p50/p95 over sequential requests;
- with --browser: the live page in headless Chromium (fake camera from the demo): frames/s
  shown and the round trip it measures itself, plus a screenshot of the page.

Targets: one client >= 20 frames/s shown and p95 round trip <= 80 ms; four clients no errors
and >= 8 frames/s each; analyze p50 <= 30 ms. Load goes only to 127.0.0.1 and every scenario
is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import struct
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cv2
import numpy as np

from bench import PHOTO, Stats, describe_context, format_table, machine_context, verdict, write_json
from bench.browser import browser_unavailable_reason, chromium_context, served, wait_for_frames, write_demo_y4m

ONE_CLIENT_FPS_TARGET = 20.0
ONE_CLIENT_P95_MS_TARGET = 80.0
FOUR_CLIENTS_FPS_TARGET = 8.0
ANALYZE_P50_MS_TARGET = 30.0
DEMO_FRAMES = 60
JPEG_QUALITY = 80
CAMERA_FPS = 30.0  # the demo's rate, and a webcam's


@dataclass
class ClientRun:
    """What one live client saw."""

    rtt_ms: list[float] = field(default_factory=list)
    bytes_up: int = 0
    bytes_down: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return len(self.rtt_ms) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        frames = max(1, len(self.rtt_ms))
        return {"frames": len(self.rtt_ms), "fps": round(self.fps, 2), "rtt_ms": Stats.of(self.rtt_ms).as_dict(),
                "kb_up_per_frame": round(self.bytes_up / frames / 1024, 1),
                "kb_down_per_frame": round(self.bytes_down / frames / 1024, 2), "errors": self.errors[:5],
                "error_count": len(self.errors)}


def demo_jpegs(count: int = DEMO_FRAMES) -> list[bytes]:
    from arfilter.io.sources.demo_scene import DemoRenderer

    renderer = DemoRenderer()
    return [cv2.imencode(".jpg", cv2.cvtColor(renderer.render(index), cv2.COLOR_RGB2BGR),
                         [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1].tobytes() for index in range(count)]


def one_face_jpeg() -> bytes:
    """The astronaut portrait (one face) centred on a 640x480 canvas, as a JPEG."""
    photo = cv2.imread(str(PHOTO))
    if photo is None:
        raise SystemExit(f"bench.web: cannot read {PHOTO}; restore tests/data from git")
    canvas = np.full((480, 640, 3), 200, np.uint8)
    scale = 480 / photo.shape[0]
    resized = cv2.resize(photo, (round(photo.shape[1] * scale), 480), interpolation=cv2.INTER_AREA)
    left = (640 - resized.shape[1]) // 2
    canvas[:, left:left + resized.shape[1]] = resized
    return cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


async def live_client(url: str, frames: list[bytes], seconds: float, image: bool, offset: int = 0,
                      in_flight: int = 2, camera_fps: float = CAMERA_FPS) -> ClientRun:
    """Stream `frames` for `seconds` as the page does with a `camera_fps` camera: each new camera
    frame is sent once, unless `in_flight` frames are still awaiting their results (then it is
    skipped, as the page skips it); results are received and decoded as they come."""
    from websockets.asyncio.client import connect

    run = ClientRun()
    sent: deque[float] = deque()
    async with connect(url, max_size=16 * 1024 * 1024) as socket:
        json.loads(await socket.recv())  # the session's settings
        await socket.send(json.dumps({"type": "options", "image": image}))
        json.loads(await socket.recv())
        start = time.perf_counter()
        done = asyncio.Event()

        async def camera() -> None:
            tick = 0
            while (now := time.perf_counter()) - start < seconds:
                if len(sent) < in_flight:
                    frame = frames[(offset + tick) % len(frames)]
                    sent.append(now)
                    await socket.send(frame)
                    run.bytes_up += len(frame)
                tick = int((time.perf_counter() - start) * camera_fps) + 1
                await asyncio.sleep(max(0.0, start + tick / camera_fps - time.perf_counter()))
            done.set()

        async def results() -> None:
            while not (done.is_set() and not sent):
                try:
                    answer = await asyncio.wait_for(socket.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                run.bytes_down += len(answer)
                if isinstance(answer, str):
                    message = json.loads(answer)
                    if message["type"] != "result":
                        run.errors.append(message.get("message", answer))
                        sent.popleft()
                        continue
                else:
                    (length,) = struct.unpack(">I", answer[:4])
                    message = json.loads(answer[4:4 + length])
                    if cv2.imdecode(np.frombuffer(answer[4 + length:], np.uint8), cv2.IMREAD_COLOR) is None:
                        run.errors.append("undecodable JPEG")
                for _ in range(message["dropped"]):
                    sent.popleft()
                run.rtt_ms.append((time.perf_counter() - sent.popleft()) * 1000)

        await asyncio.gather(camera(), results())
        run.seconds = time.perf_counter() - start
    return run


def compositing_cpu_ms(frames: list[bytes], count: int = 60) -> dict[str, float]:
    """CPU milliseconds per frame that composited frames cost over results only, measured in
    this process with thread CPU time (so other work on the machine barely moves it): on the
    server drawing the pack and the bars and encoding the JPEG, on the client decoding it."""
    from arfilter.apps.lens import build_lens
    from arfilter.apps.web.session import encode_jpeg
    from arfilter.apps.web.uploads import UploadLimits, decode_image
    from arfilter.core.types import Frame
    from arfilter.render.compose import HudLayers

    lens = build_lens()
    server, client = [], []
    for index in range(count):
        image = decode_image(frames[index % len(frames)], UploadLimits())
        result = lens.process(Frame(image=image, index=index, source="bench", timestamp_s=index / 30))
        start = time.thread_time()
        jpeg = encode_jpeg(lens.composer.compose(result, HudLayers(bars=True)), JPEG_QUALITY)
        middle = time.thread_time()
        cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        server.append((middle - start) * 1000)
        client.append((time.thread_time() - middle) * 1000)
    return {"server_ms": round(Stats.of(server[5:]).median, 2), "client_ms": round(Stats.of(client[5:]).median, 2)}


async def live_clients(url: str, frames: list[bytes], seconds: float, count: int, image: bool) -> list[ClientRun]:
    async def guarded(offset: int) -> ClientRun:
        try:
            return await live_client(url, frames, seconds, image, offset)
        except Exception as error:  # a client that fails counts as an error, the others go on
            return ClientRun(errors=[f"{type(error).__name__}: {error}"], seconds=seconds)

    return list(await asyncio.gather(*(guarded(17 * client) for client in range(count))))


def analyze_latency(base_url: str, body: bytes, requests: int) -> tuple[list[float], int]:
    """Sequential POST /api/analyze over one keep-alive connection; (milliseconds, faces of the last)."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
    times, faces = [], 0
    try:
        for _ in range(requests):
            start = time.perf_counter()
            connection.request("POST", "/api/analyze", body=body, headers={"Content-Type": "image/jpeg"})
            response = connection.getresponse()
            payload = response.read()
            times.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                raise RuntimeError(f"/api/analyze answered {response.status}: {payload[:200]!r}")
            faces = len(json.loads(payload)["faces"])
    finally:
        connection.close()
    return times[3:], faces  # the first requests load the analysis pipeline


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) the server process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def browser_run(url: str, seconds: float, screenshot: Path | None) -> dict[str, Any]:
    """The real page in headless Chromium for `seconds`: frames/s shown and its own round trips."""
    with tempfile.TemporaryDirectory() as folder:
        y4m = write_demo_y4m(Path(folder) / "demo.y4m", frames=DEMO_FRAMES)
        with chromium_context(y4m, viewport=(860, 760)) as context:
            page = context.new_page()
            page.goto(url)
            wait_for_frames(page, 5)
            start_frames = page.evaluate("() => window.arfilter.frames")
            time.sleep(seconds)
            end = page.evaluate("() => ({frames: window.arfilter.frames, rtt: window.arfilter.rttMs, "
                                "errors: window.arfilter.errors})")
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))
    return {"fps": round((end["frames"] - start_frames) / seconds, 2), "rtt_ms": Stats.of(end["rtt"]).as_dict(),
            "errors": end["errors"][:5]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each live scenario (default: 10)")
    parser.add_argument("--clients", type=int, default=4, help="clients of the concurrent scenario (default: 4)")
    parser.add_argument("--requests", type=int, default=60, help="/api/analyze requests (default: 60)")
    parser.add_argument("--browser", action="store_true", help="also measure the page in headless Chromium")
    parser.add_argument("--screenshot", type=Path, help="with --browser: save a screenshot of the page here")
    parser.add_argument("--json", type=Path, help="write the full report here")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 120 or not 5 <= args.requests <= 1000 or not 1 <= args.clients <= 16:
        parser.error("--seconds must be 1..120, --requests 5..1000 and --clients 1..16 (the load stays bounded)")
    frames = demo_jpegs()
    context = machine_context()
    report: dict[str, Any] = {"context": context, "seconds": args.seconds}
    with served("--max-sessions", str(max(4, args.clients))) as (url, process):
        ws_url = url.replace("http://", "ws://") + "ws"
        cpu_start = server_cpu_s(process.pid)
        one = asyncio.run(live_clients(ws_url, frames, args.seconds, 1, image=True))[0]
        cpu_one = server_cpu_s(process.pid)
        results_only = asyncio.run(live_clients(ws_url, frames, args.seconds, 1, image=False))[0]
        cpu_results_only = server_cpu_s(process.pid)
        many = asyncio.run(live_clients(ws_url, frames, args.seconds, args.clients, image=True))
        cpu_many = server_cpu_s(process.pid)
        # Server CPU per frame served: what other work on the machine barely changes, so it gives
        # the capacity of idle cores (the frames/s above depend on what else is running).
        cpu_ms_per_frame = {
            "composited": round((cpu_one - cpu_start) * 1000 / max(1, len(one.rtt_ms)), 2),
            "results_only": round((cpu_results_only - cpu_one) * 1000 / max(1, len(results_only.rtt_ms)), 2),
            "concurrent": round((cpu_many - cpu_results_only) * 1000 / max(1, sum(len(run.rtt_ms) for run in many)), 2),
        }
        analyze_ms, analyze_faces = analyze_latency(url, one_face_jpeg(), args.requests)
        browser: dict[str, Any] | None = None
        if args.browser:
            reason = browser_unavailable_reason()
            browser = {"skipped": reason} if reason else browser_run(url, args.seconds, args.screenshot)
        rss = server_peak_rss_mb(process.pid)
    analyze = Stats.of(analyze_ms)
    compositing = compositing_cpu_ms(frames)
    report.update({"compositing_cpu_ms": compositing, "server_cpu_ms_per_frame": cpu_ms_per_frame, "one_client_composited": one.summary(), "one_client_results_only": results_only.summary(),
                   "clients": args.clients, "concurrent_clients_composited": [run.summary() for run in many],
                   "analyze_ms": analyze.as_dict(), "analyze_faces": analyze_faces, "server_peak_rss_mb": round(rss, 1),
                   "browser": browser})

    one_rtt, only_rtt = Stats.of(one.rtt_ms), Stats.of(results_only.rtt_ms)
    many_errors = sum(len(run.errors) for run in many)
    many_min_fps = min(run.fps for run in many)
    rows: list[tuple[object, ...]] = [
        ("1 client, composited frames", f"{one.fps:.1f} frames/s", f"{one_rtt.median:.1f} / {one_rtt.p95:.1f}",
         f"{one.bytes_up / max(1, len(one.rtt_ms)) / 1024:.1f} / {one.bytes_down / max(1, len(one.rtt_ms)) / 1024:.1f}",
         verdict(one.fps >= ONE_CLIENT_FPS_TARGET and one_rtt.p95 <= ONE_CLIENT_P95_MS_TARGET and not one.errors)),
        ("1 client, results only (JSON)", f"{results_only.fps:.1f} frames/s",
         f"{only_rtt.median:.1f} / {only_rtt.p95:.1f}",
         f"{results_only.bytes_up / max(1, len(results_only.rtt_ms)) / 1024:.1f} / "
         f"{results_only.bytes_down / max(1, len(results_only.rtt_ms)) / 1024:.2f}", "(comparison)"),
        (f"{args.clients} clients, composited, each", " ".join(f"{run.fps:.1f}" for run in many) + " frames/s",
         " ".join(f"{Stats.of(run.rtt_ms).p95:.0f}" for run in many) + " (p95)", f"{many_errors} errors",
         verdict(many_errors == 0 and many_min_fps >= FOUR_CLIENTS_FPS_TARGET)),
        ("POST /api/analyze 640x480 JPEG", f"{analyze_faces} face", f"{analyze.median:.1f} / {analyze.p95:.1f}", "",
         verdict(analyze.median <= ANALYZE_P50_MS_TARGET)),
    ]
    if browser is not None and "fps" in browser:
        rtt = browser["rtt_ms"]
        rows.append(("Chromium page, fake camera", f"{browser['fps']:.1f} frames/s",
                     f"{rtt['median']:.1f} / {rtt['p95']:.1f}", f"{len(browser['errors'])} errors", "(page)"))
    print(format_table(("scenario", "rate", "ms p50 / p95", "kB up / down per frame", "target"), rows))
    print(f"composited frames cost {compositing['server_ms']:.2f} ms CPU on the server (pack, bars, JPEG) and "
          f"{compositing['client_ms']:.2f} ms decoding on the client per frame, over results only")
    print(f"server CPU per frame served: {cpu_ms_per_frame['composited']:.1f} ms composited, "
          f"{cpu_ms_per_frame['results_only']:.1f} ms results only, {cpu_ms_per_frame['concurrent']:.1f} ms with "
          f"{args.clients} clients (one idle core serves about {1000 / max(0.1, cpu_ms_per_frame['concurrent']):.0f} "
          "composited frames/s)")
    print(f"server peak RSS {rss:.0f} MB; {args.seconds:g} s per live scenario; {describe_context(context)}")
    if browser is not None and "skipped" in browser:
        print(f"browser scenario skipped: {browser['skipped']}")
    if args.screenshot is not None and browser is not None and "fps" in browser:
        print(f"wrote {args.screenshot}")
    write_json(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
