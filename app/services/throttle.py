"""Failed logins slow down (issue 15): after a few wrong passwords for one
user name, the next attempt is refused until a delay has passed, a delay that
doubles with every further failure. Whoever guesses gets a handful of tries
a few minutes instead of thousands a second; the user who mistyped waits
seconds.

Kept in memory, per program: the window (where guessing happens) lives
long; a command that checks a password (``reset-password``) also waits
``pause`` after a wrong one, so a loop of commands is slow too. Time is read
on the one clock (app/clock.py), so a test moves it instead of waiting; the
pause is a function a test replaces.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app import clock
from app.errors import UserError

FREE_FAILURES = 3  # mistakes allowed before the first delay
FIRST_DELAY_SECONDS = 5
LONGEST_DELAY_SECONDS = 300


def delay_after(failures: int) -> int:
    """Seconds to wait after ``failures`` consecutive failures."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_DELAY_SECONDS * 2 ** (failures - FREE_FAILURES), LONGEST_DELAY_SECONDS)


@dataclass
class Throttle:
    now: Callable[[], dt.datetime] = clock.now
    # Waits out a command's delay after a failure (time.sleep; tests: no wait).
    pause: Callable[[float], None] = time.sleep
    _failures: dict[str, tuple[int, dt.datetime]] = field(default_factory=dict)

    def check(self, name: str) -> None:
        """Refuse while ``name`` is in its delay, saying how long is left."""
        count, last = self._failures.get(_key(name), (0, None))
        if last is None:
            return
        left = delay_after(count) - int((self.now() - last).total_seconds())
        if left > 0:
            raise UserError(f"用户「{name.strip()}」的密码已连续输错 {count} 次，请 {left} 秒后再试。")

    def failed(self, name: str) -> None:
        count, _last = self._failures.get(_key(name), (0, None))
        self._failures[_key(name)] = (count + 1, self.now())

    def succeeded(self, name: str) -> None:
        self._failures.pop(_key(name), None)

    def wait_out(self, name: str) -> None:
        """A command's pause after a failure of ``name`` (none without one):
        at least a second, else the delay the window refuses for."""
        count, _last = self._failures.get(_key(name), (0, None))
        if count:
            self.pause(max(1, delay_after(count)))

    def clear(self) -> None:
        self._failures.clear()


def _key(name: str) -> str:
    return (name or "").strip().casefold()


# The program's one throttle for password checks (users.authenticate).
LOGINS = Throttle()
