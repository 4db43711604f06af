"""Benchmarks of arfilter's stages and of the whole pipeline; see bench/README.md.

Run them from the repository root as modules (`python3 -m bench.pipeline`). This module
holds the few helpers every bench shares: percentiles, the printed table, target checks,
the JSON dump and the machine context (load average) that explains noisy numbers.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
# The public-domain astronaut portrait (tests/data/NOTICE): the one real face every bench uses.
PHOTO = REPO_ROOT / "tests" / "data" / "astronaut.png"
PHOTO_LANDMARKS = REPO_ROOT / "tests" / "data" / "astronaut_landmarks.npy"


def shared_dataset(name: str) -> Path:
    """Where a shared data set lives: $ARFILTER_SHARED/datasets/NAME, else ../shared/datasets/NAME
    beside the checkout, else /work/shared/datasets/NAME (the first that exists; the first
    candidate when none does, so messages name a sensible place)."""
    candidates = [Path(os.environ["ARFILTER_SHARED"]) / "datasets" / name] if os.environ.get("ARFILTER_SHARED") else []
    candidates += [REPO_ROOT.parent / "shared" / "datasets" / name, Path("/work/shared/datasets") / name]
    return next((path for path in candidates if path.is_dir()), candidates[0])


@dataclass(frozen=True)
class Stats:
    """Median and 95th percentile of a list of samples (milliseconds, usually)."""

    median: float
    p95: float
    count: int

    @classmethod
    def of(cls, samples: list[float] | np.ndarray) -> Stats:
        values = np.asarray(samples, np.float64)
        if values.size == 0:
            return cls(float("nan"), float("nan"), 0)
        return cls(float(np.median(values)), float(np.percentile(values, 95)), int(values.size))

    def as_dict(self) -> dict[str, float | int]:
        return {"median": round(self.median, 4), "p95": round(self.p95, 4), "count": self.count}


def verdict(ok: bool | None) -> str:
    """PASS/FAIL mark for a target; '-' where the target could not be measured."""
    return "-" if ok is None else ("PASS" if ok else "FAIL")


def format_table(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> str:
    """A plain left-aligned text table (numbers already formatted by the caller)."""
    cells = [tuple(str(cell) for cell in header)] + [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


# CPU features that decide how fast int8 (and float) inference runs in LiteRT's XNNPACK kernels,
# strongest first. Timings from an AVX-512 VNNI host are 5-25x those of an AVX2-only one: every
# bench prints which one it ran on.
INT8_FEATURES = (("avx512_vnni", "AVX-512 VNNI"), ("avx_vnni", "AVX-VNNI"), ("avx512f", "AVX-512"),
                 ("avx2", "AVX2"), ("asimddp", "NEON dot-product"), ("asimd", "NEON"))


def cpu_features() -> list[str]:
    """The int8-relevant instruction-set features this CPU reports (Linux /proc/cpuinfo), strongest first."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = {flag for line in text.splitlines() if line.split(":")[0].strip() in ("flags", "Features")
             for flag in line.split(":", 1)[1].split()}
    return [name for flag, name in INT8_FEATURES if flag in flags]


def instruction_set(features: list[str]) -> str:
    """The class of host a timing belongs to: 'AVX-512 VNNI', 'AVX2 (no AVX-512)', ..."""
    if not features:
        return "unknown"
    if features[0] in ("AVX-512 VNNI", "AVX-VNNI", "AVX-512"):
        return features[0]
    return f"{features[0]} (no AVX-512)" if features[0] == "AVX2" else features[0]


def machine_context() -> dict[str, Any]:
    """What the numbers were measured on; the load average shows whether other work competed."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    features = cpu_features()
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "instruction_set": instruction_set(features),
        "int8_features": features,
        "load_average_1_5_15min": [round(value, 2) for value in load],
    }


def describe_context(context: dict[str, Any]) -> str:
    load = context["load_average_1_5_15min"]
    return (f"host: {context['instruction_set']} ({', '.join(context['int8_features']) or 'no SIMD flags read'}); "
            f"python {context['python']}, {context['cpu_count']} CPU(s) {context['machine']}, "
            f"load average {load[0]:.2f} (1 min; other work running makes the numbers pessimistic)")


def write_json(path: Path | None, report: dict[str, Any]) -> None:
    """Write the full report for later comparison; a no-op when --json was not given."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
