"""Purge orphaned uploads now (for cron; the gateway also does it as uploads come in):
``python -m gateway.media.purge``."""

from __future__ import annotations

from types import SimpleNamespace

from gateway.media.store import media_store_of
from yiwang.config import Settings


def main() -> None:
    settings = Settings()
    store = media_store_of(SimpleNamespace(), settings)
    print(store.purge_orphans(settings.media_orphan_max_age_s))


if __name__ == "__main__":
    main()
