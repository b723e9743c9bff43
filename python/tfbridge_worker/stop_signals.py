"""A stop signal (SIGTERM, SIGINT) asks a connected worker to leave its pool, not to die at once.

The first one is only noted: the serving loop sees it, tells the pool it is leaving, answers what it
holds, then ends the process by that signal after all (``end_as_asked``), so a supervisor sees the
stop it asked for. A second one ends the process at once: the operator insists.
"""

from __future__ import annotations

import os
import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    def __init__(self) -> None:
        #: The first stop signal received, if any.
        self.asked: signal.Signals | None = None

    def install(self) -> None:
        """Takes the stop signals over; call on the main thread (only it may set handlers)."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._received)

    def _received(self, signum: int, _frame: object) -> None:
        if self.asked is not None:
            _die_by(signum)
        self.asked = signal.Signals(signum)

    def end_as_asked(self) -> None:
        """If a stop signal was received, ends the process by it now; otherwise returns."""
        if self.asked is not None:
            _die_by(self.asked)


def _die_by(signum: int) -> None:
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
