"""Contracts of the enterprise service."""

from __future__ import annotations

from yiwang.topology import Subscription

SUBSCRIPTIONS: list[Subscription] = []
