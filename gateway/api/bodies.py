"""Request bodies derived from the RPC contracts: one source per shape.

A route's body is the contract's request model without what the gateway fills in itself
(the ``actor``, the account's enterprise, ids from the path). ``body_of`` copies the
contract's fields (type, bounds, defaults, descriptions, examples) into a new model that,
like every contract, refuses unknown keys (422). Nothing is re-typed field by field, so a
change to the contract changes the REST body with it.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

# what the gateway always fills in from the Principal
GATEWAY_FIELDS = frozenset({"actor"})


def body_of(
    contract: type[BaseModel],
    name: str,
    *,
    exclude: Iterable[str] = (),
    only: Iterable[str] | None = None,
    examples: list[dict[str, Any]] | None = None,
    doc: str | None = None,
) -> type[BaseModel]:
    """A REST body model named ``name`` with the fields of ``contract`` (in its order).

    ``exclude`` drops fields (``actor`` always); ``only`` keeps just these. Field-level rules
    travel with the fields; the full request is validated again against the contract by
    the RPC client before it is sent.
    """
    drop = GATEWAY_FIELDS | set(exclude)
    keep = set(only) if only is not None else None
    unknown = (set(exclude) | (keep or set())) - set(contract.model_fields)
    if unknown:
        raise ValueError(f"{contract.__name__} has no fields {sorted(unknown)}")
    fields: dict[str, Any] = {
        field_name: (info.annotation, copy.copy(info))
        for field_name, info in contract.model_fields.items()
        if field_name not in drop and (keep is None or field_name in keep)
    }
    config = ConfigDict(extra="forbid")
    if examples:
        config["json_schema_extra"] = {"examples": examples}
    # the model belongs to the route module that names it: OpenAPI tells two bodies of the
    # same name apart by their modules, as it did when each module wrote its own
    module = sys._getframe(1).f_globals.get("__name__", __name__)
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        name,
        __config__=config,
        __module__=module,
        __doc__=doc or f"The body of {contract.__name__} (what the caller supplies).",
        **fields,
    )
    return model
