"""Message contracts: one versioned pydantic schema per event and per RPC.

One module per producing service (``gateway``, ``petitions``, ``grids``, ``command``,
``volunteers``, ``enterprise``) holds its events, its RPC request/response models and the
subscriptions of its consumers (``SUBSCRIPTIONS``). Importing this package registers all.
"""

from yiwang.contracts import (  # noqa: F401  (each import registers its contracts)
    command,
    enterprise,
    gateway,
    grids,
    health,
    petitions,
    reach,
    volunteers,
)
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
