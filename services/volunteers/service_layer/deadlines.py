"""The deadline sweep: unclaimed orders escalate to the dispatcher, then become cases;
completed orders nobody rated close with base points.

Called by the service's nameko ``@timer`` with the service clock's ``now`` (tests pass a
fake time). Each due order is its own unit of work, locked with ``FOR UPDATE SKIP LOCKED``
so two sweepers (or a sweeper and a claim in flight) never process the same row twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import sqlalchemy as sa

from services.volunteers.adapters import repository as repo
from services.volunteers.adapters.tables import orders
from services.volunteers.service_layer.common import UowFactory
from services.volunteers.service_layer.orders import emit_order_events


def sweep_deadlines(make_uow: UowFactory, now: datetime, limit: int = 500) -> dict[str, int]:
    """Apply every time limit due at ``now``; returns how many of each action were taken."""
    with make_uow() as uow:
        ids = (
            uow.session.execute(
                sa.select(orders.c.id)
                .where(orders.c.next_deadline <= now)
                .order_by(orders.c.next_deadline)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    done: Counter[str] = Counter()
    for order_id in ids:
        with make_uow() as uow:
            row = (
                uow.session.execute(
                    sa.select(orders)
                    .where(orders.c.id == order_id, orders.c.next_deadline <= now)
                    .with_for_update(skip_locked=True)
                )
                .mappings()
                .first()
            )
            if row is None:  # taken by someone else, or no longer due
                continue
            order = repo.order_from_row(row)
            loaded = order.version
            actions = order.check_deadlines(now)
            if not actions:
                continue
            repo.save_order(uow.session, order, loaded, now)
            emit_order_events(uow, order, now)
            uow.commit()
            done.update(actions)
    return dict(done)
