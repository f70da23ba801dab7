"""`python -m bot sla`: the deadlines the policy gives a request registered at a moment.

    python -m bot sla --at 2026-03-20T19:55:00+05:00 --priority high [--topic catalog]

prints one JSON object with the registration moment, whether it is working time and both
deadlines, all ISO 8601 in the desk's zone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.sla.calendar import CalendarError
from bot.sla.config import PolicyFileError, load_policy
from bot.sla.policy import Priority


def _parser(tz: ZoneInfo) -> argparse.ArgumentParser:
    def moment(text: str) -> datetime:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not an ISO 8601 date and time: {text!r} (e.g. 2026-03-20T19:55:00+05:00)"
            ) from None
        return value.replace(tzinfo=tz) if value.tzinfo is None else value

    parser = argparse.ArgumentParser(
        prog="python -m bot sla",
        description="Show the SLA deadlines of a request registered at a given moment.",
    )
    parser.add_argument(
        "--at",
        type=moment,
        default=None,
        metavar="DATETIME",
        help=f"registration moment, ISO 8601; without an offset it is read in {tz} (default: now)",
    )
    parser.add_argument(
        "--priority",
        choices=[p.value for p in Priority],
        default=Priority.MEDIUM.value,
        help="request priority (default: medium)",
    )
    parser.add_argument("--topic", default=None, help="request topic code, e.g. catalog")
    return parser


def sla_command(argv: Sequence[str], *, tz: ZoneInfo, policy_file: Path | None) -> int:
    """Run the command; returns the exit code (2 for a bad argument, 1 for a bad policy)."""
    try:
        args = _parser(tz).parse_args(list(argv))
    except SystemExit as exc:  # argparse has printed the usage and the error
        return exc.code if isinstance(exc.code, int) else 2
    try:
        policy = load_policy(policy_file, tz)
    except PolicyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    registered_at: datetime = args.at or datetime.now(UTC).replace(microsecond=0)
    registered_at = registered_at.astimezone(tz)
    priority = Priority(args.priority)
    try:
        deadlines = policy.deadlines(registered_at, priority, args.topic)
    except CalendarError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    resolution = deadlines.resolution_due
    result = {
        "registered_at": registered_at.isoformat(),
        "priority": priority.value,
        "topic": args.topic,
        "working_time": policy.calendar.is_working_time(registered_at),
        "first_response_due": deadlines.first_response_due.isoformat(),
        "resolution_due": resolution.isoformat() if resolution is not None else None,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0
