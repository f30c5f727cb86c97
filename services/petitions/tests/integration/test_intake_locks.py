"""A batch of reports takes its duplicate-check locks up front, in one sorted order."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.petitions.adapters import repository as repo


def test_lock_in_order_takes_every_key_for_the_transaction(resources) -> None:  # type: ignore[no-untyped-def]
    eng = sa.create_engine(resources.database_url)
    keys = repo.duplicate_lock_keys("appearance.litter", 32.05, 118.79)
    keys += repo.duplicate_lock_keys("roads.pothole", 32.05, 118.79)
    assert keys[:4] == sorted(keys[:4]) and len(keys) >= 2
    try:
        with Session(eng) as s, eng.connect() as other:
            repo.lock_in_order(s, [*reversed(keys), keys[0]])  # any order, repeats: once each

            def free(k: str) -> bool:
                return bool(
                    other.execute(
                        sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": k}
                    ).scalar()
                )

            assert not any(free(k) for k in keys), "a key was not locked"
            other.rollback()
            assert free("petitions:dup:appearance.litter:elsewhere")
            other.rollback()
            s.rollback()  # the transaction ends: its locks go with it
            assert all(free(k) for k in keys)
            other.rollback()
    finally:
        eng.dispose()
