"""The enterprise service's tables (schema ``enterprise``)."""

from __future__ import annotations

from yiwang.db import service_metadata

metadata = service_metadata("enterprise")
