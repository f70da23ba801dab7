"""The SLA engine: business calendar, policy and deadlines (plain Python, no I/O but the TOML)."""

from bot.sla.calendar import (
    BusinessCalendar,
    CalendarError,
    Interval,
    as_utc,
    merge_intervals,
)
from bot.sla.config import PolicyFileError, load_policy
from bot.sla.policy import (
    AlertRules,
    Deadlines,
    Pause,
    Priority,
    SlaPolicy,
    Target,
    TargetKind,
    default_policy,
)

__all__ = [
    "AlertRules",
    "BusinessCalendar",
    "CalendarError",
    "Deadlines",
    "Interval",
    "Pause",
    "PolicyFileError",
    "Priority",
    "SlaPolicy",
    "Target",
    "TargetKind",
    "as_utc",
    "default_policy",
    "load_policy",
    "merge_intervals",
]
