"""Loading .tflite models through the LiteRT interpreter, shared by every model wrapper."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from arfilter.bounded import MAX_MODEL_BYTES, read_bounded
from arfilter.errors import ModelError
from arfilter.lifecycle import Closeable


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide LiteRT's native start-up chatter ("INFO: Created TensorFlow Lite XNNPACK delegate").

    It is written by C++ straight to file descriptor 2, so Python-level redirection cannot catch
    it; failures still reach the caller as Python exceptions. File descriptor 2 belongs to the
    whole process, so it is redirected only while this is the one thread running: a model loaded
    beside other threads (the web server's workers) leaves it alone rather than hide their errors.
    LiteRT prints the line once per process, and the first model is loaded before any thread starts.
    """
    if threading.active_count() > 1:
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr (embedded interpreters): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_interpreter(model_path: str | Path, num_threads: int, what: str, remedy: str):
    """An allocated LiteRT interpreter; every way it can fail becomes one ModelError line.

    `what` names the model in the message ("face model", "emotion model"), `remedy` says how to fix it.
    """
    from ai_edge_litert.interpreter import Interpreter

    if not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
    path = Path(model_path)
    # Read into memory, not mapped: a file truncated or replaced while the app runs (even by
    # one of its own outputs) cannot then kill the process with SIGBUS.
    if not path.exists():
        raise ModelError(f"{what} {path} not found: {remedy}")
    content = read_bounded(path, what, MAX_MODEL_BYTES, ModelError, remedy)
    try:
        with _native_stderr_silenced():
            interpreter = Interpreter(model_content=content, num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ModelError(f"{what} {path} could not be loaded ({reason[:200]}): {remedy}") from None
    return interpreter


class LiteRTModel(Closeable):
    """`close()` and `with` for the model wrappers: closing drops the interpreter and its native
    buffers at a known point instead of whenever the garbage collector gets to them.

    Subclasses keep their interpreter in `_interpreter`; calling a closed model raises an error
    that says so rather than failing inside LiteRT.
    """

    _interpreter: Any

    @property
    def closed(self) -> bool:
        return self._interpreter is None

    def close(self) -> None:
        self._interpreter = None

    def _require_open(self) -> Any:
        if self._interpreter is None:
            raise RuntimeError(f"{type(self).__name__} is closed")
        return self._interpreter

