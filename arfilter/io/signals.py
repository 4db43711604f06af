"""Stop on SIGTERM and SIGHUP the way Ctrl-C stops: unwinding, so every output is finalised.

`timeout`, `docker stop`, systemd and a closed SSH session send SIGTERM or SIGHUP, whose
default action kills the process on the spot: the MP4 never gets its index (nothing plays)
and buffered JSON Lines are lost. Inside `finalise_on_signals()` those signals, and SIGINT,
raise `Terminated` (a KeyboardInterrupt, so every `finally` and every `except
KeyboardInterrupt` already written for Ctrl-C handles them too) and outputs are closed.

Two refinements keep files whole:
- `deferred_signals()` marks a short critical section (writing one JSON line, closing a
  file): a signal arriving inside it is raised when the section ends, never half-way.
- Only the first signal interrupts. Later ones, while the outputs are being finalised, are
  ignored, so an impatient second Ctrl-C cannot break the file the first one is saving
  (SIGKILL still ends a hung process).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

HANDLED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """The run was stopped by `signum`; `exit_code` is the shell convention 128 + signum."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(self.signal_name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _State:
    """Per-process signal state (signals are only ever delivered to the main thread)."""

    active = False  # inside finalise_on_signals
    raised = False  # the one interrupting signal has been raised
    deferring = 0  # depth of deferred_signals sections
    pending: int | None = None


def _handle(signum: int, frame: FrameType | None) -> None:
    if _State.raised:
        return
    if _State.deferring:
        _State.pending = _State.pending or signum
        return
    _State.raised = True
    raise Terminated(signum)


@contextlib.contextmanager
def finalise_on_signals() -> Iterator[None]:
    """Within this block SIGINT, SIGTERM and SIGHUP raise `Terminated`; on exit the previous
    handlers come back. Outside the main thread (where handlers cannot be set) it does nothing."""
    if threading.current_thread() is not threading.main_thread() or _State.active:
        yield
        return
    previous = {signum: signal.signal(signum, _handle) for signum in HANDLED_SIGNALS}
    _State.active, _State.raised, _State.deferring, _State.pending = True, False, 0, None
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _State.active = False


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """A critical section: a signal that arrives inside is raised as `Terminated` at its end."""
    _State.deferring += 1
    try:
        yield
    finally:
        _State.deferring -= 1
    # Reached only when the section ended normally: an error leaving it keeps its own traceback.
    if not _State.deferring and _State.pending is not None and not _State.raised:
        signum, _State.pending = _State.pending, None
        _State.raised = True
        raise Terminated(signum)
