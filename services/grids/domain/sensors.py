"""Sensor alerts: rules kept as data, water-meter zero-use watch, one-key emergency calls.

Water meters report cumulative readings (m³), possibly late and out of order. For each meter
the monitor knows when use was last seen (a reading that differs from the one before it)
and the latest reading. "Zero use" is the *daytime* time (e.g. 07:00–21:00 Asia/Shanghai)
between the last use and the latest reading — so the readings prove the silence, nights do
not count, and a meter that stops reporting raises nothing. When that time reaches the
rule's window during daytime, one ``SensorAlertRaised`` is returned; the episode stays open
(no repeat) until use resumes. A decreasing reading (meter swapped) counts as use.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yiwang.errors import NotFound, ValidationFailed

from .people import Location, ResidentTag

WATER_ZERO_USE = "water_zero_use"
EMERGENCY_CALL = "emergency_call"
RULE_KINDS = (WATER_ZERO_USE, EMERGENCY_CALL)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationFailed("timestamp_naive", "times must carry a time zone", "时间须带时区")
    return at


@dataclass(frozen=True)
class Rule:
    """An alert rule as data. ``applies_to`` empty means every household."""

    kind: str = WATER_ZERO_USE
    window: timedelta = timedelta(hours=6)
    day_start: time = time(7, 0)
    day_end: time = time(21, 0)
    timezone: str = "Asia/Shanghai"
    applies_to: frozenset[ResidentTag] = frozenset({ResidentTag.ELDERLY_ALONE})
    urgent: bool = False

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise ValidationFailed(
                "unknown_rule_kind", f"unknown rule kind {self.kind}", "未知规则类型"
            )
        if self.window <= timedelta(0) or not self.day_start < self.day_end:
            raise ValidationFailed(
                "invalid_rule", "window must be positive and day_start < day_end", "规则参数无效"
            )
        ZoneInfo(self.timezone)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """From stored config: ``{"kind", "window_hours", "day_start": "07:00", ...}``."""
        try:
            return cls(
                kind=str(data.get("kind", WATER_ZERO_USE)),
                window=timedelta(hours=float(data.get("window_hours", 6))),
                day_start=time.fromisoformat(str(data.get("day_start", "07:00"))),
                day_end=time.fromisoformat(str(data.get("day_end", "21:00"))),
                timezone=str(data.get("timezone", "Asia/Shanghai")),
                applies_to=frozenset(
                    ResidentTag(t) for t in data.get("applies_to", [ResidentTag.ELDERLY_ALONE])
                ),
                urgent=bool(data.get("urgent", False)),
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise ValidationFailed("invalid_rule", f"bad rule: {exc}", "规则配置无效") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "window_hours": self.window.total_seconds() / 3600,
            "day_start": self.day_start.isoformat("minutes"),
            "day_end": self.day_end.isoformat("minutes"),
            "timezone": self.timezone,
            "applies_to": sorted(self.applies_to),
            "urgent": self.urgent,
        }

    def is_daytime(self, at: datetime) -> bool:
        local = _aware(at).astimezone(ZoneInfo(self.timezone)).time()
        return self.day_start <= local < self.day_end

    def daytime_between(self, start: datetime, end: datetime) -> timedelta:
        """How much of [start, end) falls in the rule's daytime hours."""
        if end <= start:
            return timedelta(0)
        tz = ZoneInfo(self.timezone)
        day = start.astimezone(tz).date()
        last = end.astimezone(tz).date()
        total = timedelta(0)
        while day <= last:
            a = datetime.combine(day, self.day_start, tz)
            b = datetime.combine(day, self.day_end, tz)
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
            day += timedelta(days=1)
        return total


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(),
    Rule(kind=EMERGENCY_CALL, applies_to=frozenset(), urgent=True),
)


@dataclass(frozen=True)
class HouseholdBinding:
    """What an alert needs to know about the household a device belongs to."""

    household_code: str
    grid_code: str
    location: Location
    family_contact: str | None = None
    tags: frozenset[ResidentTag] = frozenset()


@dataclass(frozen=True)
class MeterReading:
    meter_id: str
    at: datetime
    value: float  # cumulative m³


@dataclass(frozen=True)
class SensorAlertRaised:
    """Event: an alert case for the grid's worker (and the family contact)."""

    alert_id: str
    kind: str
    household_code: str
    grid_code: str
    family_contact: str | None
    location: Location
    raised_at: datetime
    urgent: bool
    since: datetime | None = None
    device_id: str | None = None


@dataclass
class _MeterState:
    readings: list[tuple[datetime, float]] = field(default_factory=list)
    carried_last_use: datetime | None = None
    alerted_for: datetime | None = None  # last-use time of the open episode


@dataclass
class WaterMonitor:
    """Zero-use watch over water meters. ``meters`` binds meter id → household."""

    meters: dict[str, HouseholdBinding]
    rules: tuple[Rule, ...] = DEFAULT_RULES
    retention: timedelta = timedelta(days=2)
    _state: dict[str, _MeterState] = field(default_factory=dict)

    def ingest(self, readings: Iterable[MeterReading]) -> int:
        """Store a batch (any order). Unknown meters refuse the whole batch, nothing kept."""
        batch = list(readings)
        unknown = sorted({r.meter_id for r in batch if r.meter_id not in self.meters})
        if unknown:
            raise NotFound(
                "meter_unknown",
                f"unknown meter(s): {', '.join(unknown[:10])}",
                f"未登记的水表：{'，'.join(unknown[:10])}",
                meters=unknown[:50],
            )
        for r in batch:
            _aware(r.at)
            if not r.value >= 0:
                raise ValidationFailed("reading_invalid", "negative reading", "水表读数无效")
        stored = 0
        for r in batch:
            st = self._state.setdefault(r.meter_id, _MeterState())
            i = bisect.bisect_left(st.readings, (r.at,))
            if i < len(st.readings) and st.readings[i][0] == r.at:
                continue  # duplicate timestamp: first wins
            st.readings.insert(i, (r.at, r.value))
            stored += 1
        for st in self._state.values():
            self._prune(st)
        return stored

    def restore(
        self, meter_id: str, last_use: datetime | None, alerted_for: datetime | None
    ) -> None:
        """Seed a meter with state carried from an earlier evaluation (a store keeps only
        recent readings in memory): when use was last seen, and the open episode if any."""
        if meter_id not in self.meters:
            raise NotFound("meter_unknown", f"unknown meter {meter_id}", "未登记的水表")
        st = self._state.setdefault(meter_id, _MeterState())
        st.carried_last_use = last_use
        st.alerted_for = alerted_for

    def open_episode(self, meter_id: str) -> datetime | None:
        """The last-use time of the meter's open alert episode (None: no open episode)."""
        st = self._state.get(meter_id)
        return st.alerted_for if st else None

    def last_use(self, meter_id: str) -> datetime | None:
        st = self._state.get(meter_id)
        return self._last_use(st) if st else None

    def evaluate(self, now: datetime) -> list[SensorAlertRaised]:
        """Alerts due at ``now`` (at most one per meter per episode)."""
        _aware(now)
        rules = [r for r in self.rules if r.kind == WATER_ZERO_USE]
        alerts: list[SensorAlertRaised] = []
        for meter_id in sorted(self._state):
            st = self._state[meter_id]
            binding = self.meters[meter_id]
            if not st.readings:
                continue
            since = self._last_use(st)
            if since is None:
                continue
            if st.alerted_for is not None and since > st.alerted_for:
                st.alerted_for = None  # use resumed: the episode is over
            if st.alerted_for is not None:
                continue
            latest = min(st.readings[-1][0], now)
            for rule in rules:
                if rule.applies_to and not (rule.applies_to & binding.tags):
                    continue
                if not rule.is_daytime(now):
                    continue
                if rule.daytime_between(since, latest) >= rule.window:
                    st.alerted_for = since
                    alerts.append(
                        SensorAlertRaised(
                            alert_id=f"{WATER_ZERO_USE}:{meter_id}:{since.isoformat()}",
                            kind=WATER_ZERO_USE,
                            household_code=binding.household_code,
                            grid_code=binding.grid_code,
                            family_contact=binding.family_contact,
                            location=binding.location,
                            raised_at=now,
                            urgent=rule.urgent,
                            since=since,
                        )
                    )
                    break
        return alerts

    def _last_use(self, st: _MeterState) -> datetime | None:
        rs = st.readings
        for i in range(len(rs) - 1, 0, -1):
            if rs[i][1] != rs[i - 1][1]:
                return rs[i][0]
        if st.carried_last_use is not None:
            return st.carried_last_use
        return rs[0][0] if rs else None

    def _prune(self, st: _MeterState) -> None:
        if len(st.readings) < 3:
            return
        horizon = st.readings[-1][0] - self.retention
        cut = bisect.bisect_left(st.readings, (horizon,))
        cut = min(cut, len(st.readings) - 2)
        if cut <= 0:
            return
        carried = self._last_use_upto(st, cut)
        if carried is not None and st.carried_last_use is not None:
            carried = max(carried, st.carried_last_use)
        st.carried_last_use = carried
        del st.readings[:cut]

    def _last_use_upto(self, st: _MeterState, cut: int) -> datetime | None:
        """Last use among readings[: cut + 1] (the kept first reading included)."""
        rs = st.readings
        for i in range(cut, 0, -1):
            if rs[i][1] != rs[i - 1][1]:
                return rs[i][0]
        return st.carried_last_use if st.carried_last_use is not None else rs[0][0]


def emergency_call(
    device_id: str,
    devices: Mapping[str, HouseholdBinding],
    at: datetime,
    *,
    location: Location | None = None,
    rules: Iterable[Rule] = DEFAULT_RULES,
) -> SensorAlertRaised:
    """One-key emergency call (一键呼叫): device → household → urgent alert at its location.

    ``location`` is the device's own fix when it sends one; otherwise the household's.
    """
    _aware(at)
    try:
        binding = devices[device_id]
    except KeyError:
        raise NotFound(
            "device_unknown",
            f"unknown emergency device '{device_id}'",
            f"未登记的一键呼叫设备“{device_id}”",
        ) from None
    rule = next((r for r in rules if r.kind == EMERGENCY_CALL), DEFAULT_RULES[1])
    return SensorAlertRaised(
        alert_id=f"{EMERGENCY_CALL}:{device_id}:{at.isoformat()}",
        kind=EMERGENCY_CALL,
        household_code=binding.household_code,
        grid_code=binding.grid_code,
        family_contact=binding.family_contact,
        location=location or binding.location,
        raised_at=at,
        urgent=rule.urgent,
        device_id=device_id,
    )
