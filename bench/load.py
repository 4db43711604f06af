"""Bounded load test of `arfilter serve` on 127.0.0.1: many API clients, hostile requests mixed in.

    python -m bench.load                        # 64 clients for 60 s
    python -m bench.load --clients 16 --seconds 10 --json load.json

The server is the real command (`python -m arfilter serve --port 0`) in its own process. Each
client holds one keep-alive connection and sends, one after another with a pause between
(`--interval`, randomised by +-50% so clients do not march in step), a mix of:

- valid: a 640x480 JPEG of a face (the astronaut portrait), analysed by the server;
- bomb: a 4096x4096 PNG of zeros (49 kB) or a 600-byte JPEG whose header declares 4096x4096,
  both refused by their header before decoding;
- cross-site: the valid JPEG as a multipart POST with `Origin: http://evil.example`, as a page
  on another site would send it without a preflight; refused with 403.

Targets (issue 21): server peak RSS (VmHWM) < 600 MB; every valid request answered 200; p95 of
valid requests < 200 ms; the server's log holds one line per refused request and nothing else.
Load goes only to 127.0.0.1 and the run is bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import io
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cv2
from PIL import Image

from bench import PHOTO, Stats, describe_context, format_table, machine_context, verdict, write_json
from bench.browser import served
from bench.web import server_cpu_s, server_peak_rss_mb

PEAK_RSS_MB_TARGET = 600.0
VALID_P95_MS_TARGET = 200.0
KINDS = ("valid", "bomb_png", "bomb_jpeg", "cross_site")
WEIGHTS = (0.7, 0.1, 0.1, 0.1)
REFUSED = {"bomb_png": 413, "bomb_jpeg": 413, "cross_site": 403}
BOUNDARY = "arfilter-load-bench"


@dataclass
class ClientLog:
    """What one client sent and got back."""

    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def bodies() -> dict[str, tuple[bytes, dict[str, str]]]:
    """Each kind of request: its body and headers."""
    photo = cv2.imread(str(PHOTO))
    if photo is None:
        raise SystemExit(f"bench.load: cannot read {PHOTO}; restore tests/data from git")
    ok, encoded = cv2.imencode(".jpg", cv2.resize(photo, (640, 480)), [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    valid = encoded.tobytes()
    zeros = io.BytesIO()
    Image.new("RGB", (4096, 4096)).save(zeros, "PNG")
    tiny = io.BytesIO()
    Image.new("L", (8, 8)).save(tiny, "JPEG", quality=10)
    bomb_jpeg = bytearray(tiny.getvalue())
    sof = bomb_jpeg.index(b"\xff\xc0")  # baseline start of frame: height and width follow the precision byte
    bomb_jpeg[sof + 5:sof + 9] = (4096).to_bytes(2, "big") * 2
    multipart = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
                 "Content-Type: image/jpeg\r\n\r\n").encode() + valid + f"\r\n--{BOUNDARY}--\r\n".encode()
    return {
        "valid": (valid, {"Content-Type": "image/jpeg"}),
        "bomb_png": (zeros.getvalue(), {"Content-Type": "image/png"}),
        "bomb_jpeg": (bytes(bomb_jpeg), {"Content-Type": "image/jpeg"}),
        "cross_site": (multipart, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                                   "Origin": "http://evil.example"}),
    }


def client(url: str, requests: dict[str, tuple[bytes, dict[str, str]]], deadline: float, interval_s: float,
           seed: int, record: ClientLog) -> None:
    """One API client: a request, a pause, until `deadline`; reconnects when the server closes."""
    address = urlsplit(url)
    rng = random.Random(seed)
    connection: http.client.HTTPConnection | None = None
    time.sleep(rng.uniform(0, interval_s))  # spread the first requests
    while time.monotonic() < deadline:
        kind = rng.choices(KINDS, WEIGHTS)[0]
        body, headers = requests[kind]
        start = time.perf_counter()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
            connection.request("POST", "/api/analyze", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            record.latencies_ms[kind].append((time.perf_counter() - start) * 1000)
            record.statuses[(kind, response.status)] += 1
            if response.status != REFUSED.get(kind, 200):
                record.failures.append(f"{kind}: {response.status} {payload[:120]!r}")
            if response.getheader("connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as error:
            record.failures.append(f"{kind}: {type(error).__name__}: {error}")
            record.statuses[(kind, 0)] += 1
            if connection is not None:
                connection.close()
            connection = None
        time.sleep(interval_s * rng.uniform(0.5, 1.5))
    if connection is not None:
        connection.close()


def sample_rss(pid: int, stop: threading.Event, samples: list[float]) -> None:
    while not stop.wait(0.2):
        samples.append(server_peak_rss_mb(pid))


def run(clients: int, seconds: float, interval_s: float) -> dict[str, Any]:
    requests = bodies()
    log: list[str] = []
    with served(log=log) as (url, process):
        # Load the analysis pipeline once, as the first user would, before the clock starts.
        warm = ClientLog()
        client(url, dict.fromkeys(KINDS, requests["valid"]), time.monotonic() + 0.5, 0.1, 0, warm)
        log_before, rss_before = len(log), server_peak_rss_mb(process.pid)
        cpu_before = server_cpu_s(process.pid)
        records = [ClientLog() for _ in range(clients)]
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=client, args=(url, requests, deadline, interval_s, index, record))
                   for index, record in enumerate(records)]
        rss: list[float] = []
        stop = threading.Event()
        watcher = threading.Thread(target=sample_rss, args=(process.pid, stop, rss))
        start = time.monotonic()
        watcher.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
        time.sleep(0.5)  # the last log lines
        stop.set()
        watcher.join()
        peak_rss = server_peak_rss_mb(process.pid)
        cpu = server_cpu_s(process.pid) - cpu_before
        new_log = log[log_before:]
    statuses: Counter[tuple[str, int]] = Counter()
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    failures: list[str] = []
    for record in records:
        statuses.update(record.statuses)
        failures += record.failures
        for kind in KINDS:
            latencies[kind] += record.latencies_ms[kind]
    refused = sum(count for (kind, status), count in statuses.items() if kind in REFUSED and status == REFUSED[kind])
    valid = Stats.of(latencies["valid"])
    valid_sent = sum(count for (kind, _), count in statuses.items() if kind == "valid")
    valid_ok = statuses[("valid", 200)]
    return {
        "clients": clients, "seconds": round(elapsed, 1), "interval_s": interval_s,
        "requests": sum(statuses.values()), "requests_per_s": round(sum(statuses.values()) / elapsed, 1),
        "statuses": {f"{kind} {status}": count for (kind, status), count in sorted(statuses.items())},
        "latency_ms": {kind: Stats.of(values).as_dict() for kind, values in latencies.items()},
        "valid_sent": valid_sent, "valid_answered": valid_ok, "refused": refused,
        "server_peak_rss_mb": round(peak_rss, 1), "server_rss_before_mb": round(rss_before, 1),
        "server_cpu_s": round(cpu, 1), "log_lines": len(new_log), "log_sample": new_log[:5],
        "failures": failures[:10], "failure_count": len(failures),
        "targets": {
            "peak_rss": peak_rss < PEAK_RSS_MB_TARGET,
            "every_valid_answered": valid_sent > 0 and valid_ok == valid_sent,
            "valid_p95": valid.p95 < VALID_P95_MS_TARGET,
            "one_log_line_per_refusal": len(new_log) == refused,
        },
        "context": machine_context(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=2.0, help="mean pause between one client's requests (s)")
    parser.add_argument("--json", type=Path, help="write the full report here")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.interval < 0:
        parser.error("--clients, --seconds must be positive and --interval not negative")
    report = run(args.clients, args.seconds, args.interval)
    targets = report["targets"]
    valid = report["latency_ms"]["valid"]
    print(f"{args.clients} clients for {report['seconds']} s: {report['requests']} requests "
          f"({report['requests_per_s']}/s), server CPU {report['server_cpu_s']} s")
    print(format_table(("figure", "value", "target", ""), [
        ("server peak RSS", f"{report['server_peak_rss_mb']} MB", f"< {PEAK_RSS_MB_TARGET:g} MB",
         verdict(targets["peak_rss"])),
        ("valid answered", f"{report['valid_answered']}/{report['valid_sent']}", "all",
         verdict(targets["every_valid_answered"])),
        ("valid p50 / p95", f"{valid['median']:.1f} / {valid['p95']:.1f} ms", f"p95 < {VALID_P95_MS_TARGET:g} ms",
         verdict(targets["valid_p95"])),
        ("log lines / refused", f"{report['log_lines']} / {report['refused']}", "equal",
         verdict(targets["one_log_line_per_refusal"])),
    ]))
    for kind, stats in report["latency_ms"].items():
        print(f"  {kind:10s} p50 {stats['median']:.1f} ms  p95 {stats['p95']:.1f} ms  ({stats['count']} requests)")
    for failure in report["failures"]:
        print(f"  failure: {failure}")
    for line in report["log_sample"]:
        print(f"  log: {line}")
    print(describe_context(report["context"]))
    write_json(args.json, report)
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
