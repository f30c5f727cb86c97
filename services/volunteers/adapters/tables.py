"""The volunteers service's tables (schema ``volunteers``)."""

from __future__ import annotations

from yiwang.db import service_metadata

metadata = service_metadata("volunteers")
