"""`with` for everything that holds native resources (interpreters, captures) and must let go of
them at a known point rather than whenever the garbage collector gets to them."""

from __future__ import annotations

from typing import Self


class Closeable:
    """Subclasses implement `close()`; `with obj:` then closes `obj` on every way out."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
