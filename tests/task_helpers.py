"""Test doubles for the GUI's task API (app/views/worker.py)."""

from __future__ import annotations

from app.views.worker import _TaskRunner

_RUN = object()


class DeferredWorker(_TaskRunner):
    """Holds every task until the test finishes it, in any order, with its real result or
    one the test supplies — the slow, reordered answers a real worker can produce."""

    def __init__(self):
        super().__init__()
        self.queue: list[tuple] = []

    def _start(self, task, fn, args, kwargs) -> None:
        self.queue.append((task, fn, args, kwargs))

    def names(self) -> list[str]:
        return [t.name.rsplit(".", 1)[-1] for t, *_ in self.queue]

    def find(self, name: str) -> int:
        return next(i for i, (t, *_r) in enumerate(self.queue) if t.name.endswith(name))

    def finish(self, index: int = 0, result=_RUN) -> None:
        task, fn, args, kwargs = self.queue.pop(index)
        if result is _RUN:
            result, error = self._execute(fn, args, kwargs)
        else:
            error = None
        self._deliver(task, result, error)

    def _unhandled(self, task, error) -> None:
        raise error

    def finish_all(self) -> None:
        while self.queue:
            self.finish(0)

    def wait_idle(self, timeout_s: float = 0.0) -> bool:
        return True
