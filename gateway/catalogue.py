"""The case-category catalogue as the gateway sees it: fetched from the petitions service
over RPC and cached for a minute, so a report with an unknown category or a missing
required attribute is refused at the door (422) instead of becoming an unclassified case.

If the petitions service is down and nothing is cached, intake still accepts the report
(it is durable and petitions classifies it when it returns): refusing citizens because one
service is restarting would be worse than a case staff must reclassify.
"""

from __future__ import annotations

import time
from typing import Any

from yiwang.errors import DomainError, ValidationFailed
from yiwang.rpc_client import NamekoRpcClient

TTL_S = 60.0


class Catalogue:
    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._loaded_at = 0.0

    async def categories(self, rpc: NamekoRpcClient) -> dict[str, dict[str, Any]] | None:
        if self._items and time.monotonic() - self._loaded_at < TTL_S:
            return self._items
        try:
            reply = await rpc.call("petitions", "list_categories", timeout_s=2)
        except DomainError:
            return self._items or None  # stale is better than nothing; nothing → accept
        self._items = {c["code"]: c for c in reply["items"]}
        self._loaded_at = time.monotonic()
        return self._items

    async def check(
        self, rpc: NamekoRpcClient, code: str, attributes: dict[str, Any], *, citizen: bool = True
    ) -> None:
        items = await self.categories(rpc)
        if items is None:
            return
        cat = items.get(code)
        if cat is None or (citizen and not cat.get("citizen_selectable", True)):
            raise ValidationFailed(
                "unknown_category",
                f"'{code}' is not a category citizens can report; see GET /api/v1/categories.",
                f"“{code}”不是可上报的类别，请查看 GET /api/v1/categories。",
                category=code,
            )
        missing = [
            a["code"]
            for a in cat.get("attributes", [])
            if a.get("required")
            and a.get("variable", True)
            and str(attributes.get(a["code"], "")).strip() == ""
        ]
        if missing:
            raise ValidationFailed(
                "missing_attribute",
                f"category '{code}' requires the attribute(s) {missing}",
                f"类别“{code}”必须填写{missing}",
                category=code,
                attributes=missing,
            )
