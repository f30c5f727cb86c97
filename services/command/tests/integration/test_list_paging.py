"""Dispatch view paging: keyset cursor equals offset paging; count modes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from services.command.service_layer import view
from services.command.tests.integration.conftest import T0, Petitions
from yiwang.contracts.command import ListCasesRequest
from yiwang.errors import ValidationFailed

pytestmark = pytest.mark.integration
PREFIX = "329907001"


def test_cursor_pages_equal_offset_pages_and_counts(
    petitions: Callable[..., Petitions], factory: Any
) -> None:
    for i in range(23):  # pairs share created_at: the case_id breaks the tie
        p = petitions(f"{PREFIX}{1 + i % 3:03d}001", at=T0 + timedelta(minutes=i // 2))
        assert p.feed(p.created_env())
    ids_offset = []
    for page in range(1, 5):
        got = view.list_cases(
            factory(), ListCasesRequest(jurisdiction_prefix=PREFIX, page=page, page_size=7)
        )
        ids_offset += [r["case_id"] for r in got["items"]]
        assert got["total"] == 23 and got["total_exact"] and not got["total_estimated"]
    ids_cursor, cursor, pages = [], None, 0
    while True:
        got = view.list_cases(
            factory(), ListCasesRequest(jurisdiction_prefix=PREFIX, page_size=7, cursor=cursor)
        )
        ids_cursor += [r["case_id"] for r in got["items"]]
        pages += 1
        cursor = got["next_cursor"]
        if cursor is None:
            break
    assert pages == 4 and ids_cursor == ids_offset and len(set(ids_cursor)) == 23
    for mode in ("exact", "capped"):
        got = view.list_cases(factory(), ListCasesRequest(jurisdiction_prefix=PREFIX, count=mode))
        assert got["total"] == 23 and got["total_exact"]
    small = view.list_cases(factory(), ListCasesRequest(jurisdiction_prefix=PREFIX + "001"))
    assert small["total"] == 8 and small["next_cursor"] is None
    with pytest.raises(ValidationFailed):
        view.list_cases(factory(), ListCasesRequest(cursor="not-a-cursor"))


def test_auto_count_estimates_beyond_its_cap(
    petitions: Callable[..., Petitions], factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = "329907002"
    for i in range(9):
        p = petitions(f"{prefix}001{1 + i % 2:03d}", at=T0 + timedelta(minutes=i))
        assert p.feed(p.created_env())
    monkeypatch.setattr(view, "AUTO_EXACT_UP_TO", 4)
    got = view.list_cases(factory(), ListCasesRequest(jurisdiction_prefix=prefix, page_size=3))
    assert got["total_estimated"] and not got["total_exact"] and got["total"] >= 5
    assert len(got["items"]) == 3 and got["next_cursor"]
    got = view.list_cases(
        factory(), ListCasesRequest(jurisdiction_prefix=prefix, page_size=3, count="exact")
    )
    assert got["total"] == 9 and got["total_exact"] and not got["total_estimated"]
