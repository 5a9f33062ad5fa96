"""The forgetting curve: retention R = exp(-t / S).

t is the time since the memory was stored or last reinforced, S its stability in days.
S starts from the memory's importance and doubles with each reinforcement (the spacing
effect: every successful review roughly doubles the interval before the next, as in
spaced-repetition schedules such as SM-2, whose factor is about 2.5). Pinned memories do
not decay.
"""

from __future__ import annotations

import math
from datetime import datetime

# Days until retention falls to 1/e for a never-reinforced memory, by importance 1..5:
# a throw-away note fades in about a week, a normal one in a season, a vital one in years.
BASE_STABILITY_DAYS = {1: 7.0, 2: 30.0, 3: 90.0, 4: 365.0, 5: 3650.0}
REINFORCEMENT_FACTOR = 2.0
MAX_DOUBLINGS = 10  # beyond ~1000x the base, more reinforcement changes nothing visible

# Consolidation archives a memory whose retention fell below this: exp(-3), three
# stabilities untouched. A throw-away note (importance 1) goes after 3 weeks, a normal one
# (3) after 9 months, an important one (4) after 3 years, a vital one (5) practically never;
# each reinforcement doubles the wait. Archiving hides, never deletes: `recall --all`
# finds it and `restore` brings it back.
ARCHIVE_BELOW = math.exp(-3.0)


def stability_days(importance: int, reinforcements: int) -> float:
    base = BASE_STABILITY_DAYS.get(importance, BASE_STABILITY_DAYS[3])
    return base * REINFORCEMENT_FACTOR ** min(max(reinforcements, 0), MAX_DOUBLINGS)


def retention(stability: float, elapsed_days: float) -> float:
    """exp(-t/S), 1.0 for no elapsed time (or a clock set back)."""
    return math.exp(-max(elapsed_days, 0.0) / stability)


def memory_retention(
    importance: int,
    reinforcements: int,
    pinned: bool,
    last_touched: datetime,
    now: datetime,
) -> float:
    """Retention of one memory at `now`; `last_touched` is when it was stored or reinforced."""
    if pinned:
        return 1.0
    elapsed = (now - last_touched).total_seconds() / 86400.0
    return retention(stability_days(importance, reinforcements), elapsed)
