"""``python -m services.command.rebuild [case_id]``: replay ``case_events`` into the dispatch
view (all cases: also the KPI counters), against ``YIWANG_DATABASE_URL``."""

from __future__ import annotations

import sys
import uuid

from services.command.service_layer import view
from yiwang.clock import SystemClock
from yiwang.config import Settings
from yiwang.db import make_engine
from yiwang.uow import uow_factory


def main(argv: list[str]) -> int:
    case_id = uuid.UUID(argv[0]) if argv else None
    engine = make_engine(Settings().database_url, pool_size=2)
    factory = uow_factory(engine, producer="command", schema="command")
    out = view.rebuild(factory(), SystemClock().now(), case_id)
    print(f"rebuilt {out['cases']} case(s) from {out['events']} event(s)")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
