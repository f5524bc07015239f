"""A time zone as data: the UTC offsets in force over time, given as transitions (no tz database here).

`TimeZoneRules` holds the offset in force before the first transition (`base_offset`) and, for each UTC
transition instant, the offset in force from it on. Times are integer epoch seconds; a *local* time is
the wall-clock reading expressed the same way (seconds since 1970-01-01 00:00 wall time).

Local to UTC (`to_utc`) follows one rule: a local time maps to the **earliest instant whose wall time is
at or after it**. So an ordinary local time maps to its one instant; a local time repeated by a fold (clocks
set back) maps to its first occurrence; a local time skipped by a gap (clocks set forward) maps to the
transition instant, the first moment that exists after it. The mapping never decreases, so session
boundaries keep their order and sessions never overlap because of daylight saving.
"""

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import pairwise

from src.domain.errors import InvalidTimeZone

_MAX_OFFSET = 18 * 3600
_BEFORE_TIME = -(2**62)


@dataclass(frozen=True, slots=True)
class TimeZoneRules:
    name: str
    base_offset: int
    transitions: tuple[int, ...] = ()
    offsets: tuple[int, ...] = ()
    # Region k starts at _starts[k] (UTC) with offset _offsets[k]; region 0 is "before the first transition".
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _all_offsets: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _local_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check(self)
        starts = (_BEFORE_TIME, *self.transitions)
        offsets = (self.base_offset, *self.offsets)
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_all_offsets", offsets)
        object.__setattr__(self, "_local_starts", tuple(s + o for s, o in zip(starts, offsets, strict=True)))

    @classmethod
    def fixed(cls, offset: int, name: str | None = None) -> "TimeZoneRules":
        """A zone that is always `offset` seconds east of UTC."""
        return cls(name if name is not None else _fixed_name(offset), offset)

    @classmethod
    def utc(cls) -> "TimeZoneRules":
        return cls.fixed(0, "UTC")

    @property
    def is_fixed(self) -> bool:
        return not self.transitions

    def offset_at(self, utc: int) -> int:
        """Seconds east of UTC in force at the instant `utc`."""
        return self._all_offsets[bisect_right(self._starts, utc) - 1]

    def to_local(self, utc: int) -> int:
        return utc + self.offset_at(utc)

    def to_utc(self, local: int) -> int:
        """The earliest instant whose wall time is at or after `local` (see the module rules)."""
        if not self.transitions:
            return local - self.base_offset
        region = bisect_right(self._local_starts, local) - 1
        for candidate in (region - 1, region):
            if candidate >= 0 and self._holds(candidate, local - self._all_offsets[candidate]):
                return local - self._all_offsets[candidate]
        return self._starts[region + 1]  # `local` was skipped: the transition that skipped it

    def _holds(self, region: int, utc: int) -> bool:
        following = region + 1
        return self._starts[region] <= utc and (following == len(self._starts) or utc < self._starts[following])


def _check(rules: TimeZoneRules) -> None:
    if len(rules.transitions) != len(rules.offsets):
        raise InvalidTimeZone(f"{rules.name}: one offset per transition is required", field="timezone")
    if any(later <= earlier for earlier, later in pairwise(rules.transitions)):
        raise InvalidTimeZone(f"{rules.name}: transitions must be strictly increasing", field="timezone")
    if any(abs(offset) > _MAX_OFFSET for offset in (rules.base_offset, *rules.offsets)):
        raise InvalidTimeZone(f"{rules.name}: an offset beyond 18 hours", field="timezone")


def _fixed_name(offset: int) -> str:
    if offset == 0:
        return "UTC"
    sign = "+" if offset > 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"
