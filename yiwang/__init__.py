"""Yiwang shared package: contracts, outbox/inbox, tracing, config, database helpers.

Everything here is shared by every service and the gateway. Pure modules (``errors``,
``clock``, ``contracts``) import nothing from nameko, eventlet or SQLAlchemy sessions.
"""
