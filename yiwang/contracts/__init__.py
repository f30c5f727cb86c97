"""Message contracts: one versioned pydantic schema per event and per RPC.

Importing this package registers every contract (see ``events`` and ``rpc``).
"""

from yiwang.contracts import events as events  # noqa: F401  (registers event schemas)
from yiwang.contracts import rpc as rpc  # noqa: F401  (registers RPC schemas)
from yiwang.contracts.envelope import (
    ContractViolation,
    Envelope,
    event_contract,
    new_envelope,
    parse_envelope,
    registry,
)

__all__ = [
    "ContractViolation",
    "Envelope",
    "event_contract",
    "new_envelope",
    "parse_envelope",
    "registry",
]
