"""Small checks on values read from files the user gives us (model metadata, pack manifests).

Ground: every wing may use these, so each check is written once.
"""

from __future__ import annotations

import math
from typing import Any


def is_finite_number(value: Any) -> bool:
    """A real, finite int or float (TOML and JSON booleans are not numbers, NaN and inf are refused)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
