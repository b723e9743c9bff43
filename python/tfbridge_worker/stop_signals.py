"""A stop signal (SIGTERM, SIGINT) asks a connected worker to leave its pool, not to die at once.

The first one is only noted: the serving loop sees it (``wakeup_fd`` turns readable at once), tells the
pool it is leaving, answers what it holds, then ends the process by that signal after all
(``end_as_asked``), so a supervisor sees the stop it asked for. A second one ends the process at once:
the operator insists. A repeat within REPEAT_S of the first is taken for the same stop: one Ctrl-C can
arrive twice, from the terminal and from a parent that forwards it (npm, a wrapper in the same group).
"""

from __future__ import annotations

import os
import signal
import socket
import time

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: A repeat this soon after the first signal is the same stop, not an insistence.
REPEAT_S = 1.0


class StopSignals:
    def __init__(self) -> None:
        #: The first stop signal received, if any.
        self.asked: signal.Signals | None = None
        self._asked_at = 0.0
        self._wakeup_r, self._wakeup_w = socket.socketpair()
        self._before: dict[int, object] = {}

    @property
    def wakeup_fd(self) -> int:
        """Readable once a signal came: register it with the loop's poller, and `drain` it when it is."""
        return self._wakeup_r.fileno()

    def install(self) -> None:
        """Takes the stop signals over; call on the main thread (only it may set handlers)."""
        for end in (self._wakeup_r, self._wakeup_w):
            end.setblocking(False)
        signal.set_wakeup_fd(self._wakeup_w.fileno(), warn_on_full_buffer=False)
        for signum in STOP_SIGNALS:
            self._before[signum] = signal.signal(signum, self._received)

    def drain(self) -> None:
        try:
            while self._wakeup_r.recv(64):
                pass
        except BlockingIOError:
            pass

    def _received(self, signum: int, _frame: object) -> None:
        if self.asked is None:
            self.asked, self._asked_at = signal.Signals(signum), time.monotonic()
        elif time.monotonic() - self._asked_at >= REPEAT_S:
            _die_by(signum)

    def end_as_asked(self) -> None:
        """Ends the process by the stop signal received, if one was; otherwise gives the stop signals
        back the handling they had (a SIGTERM during the interpreter's shutdown still ends it)."""
        self.restore()  # first: a signal handled after the check below would otherwise be lost
        if self.asked is not None:
            _die_by(self.asked)

    def restore(self) -> None:
        """Gives the stop signals back the handling they had before `install`."""
        signal.set_wakeup_fd(-1)
        for signum, before in self._before.items():
            signal.signal(signum, before)


def _die_by(signum: int) -> None:
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
