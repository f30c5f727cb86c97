"""Structured JSON logs (structlog) carrying the current trace id.

Every line passes ``mask_personal_data``: mainland mobile numbers and resident ID numbers
in any value (messages, fields, exceptions of other libraries) are masked before they are
written (``138****0001``, ``110101********123X``)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from yiwang.tracing import current_trace_id


def _add_trace(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    tid = current_trace_id()
    if tid:
        event_dict["trace_id"] = tid
    return event_dict


_EDGE_L = r"(?<![0-9A-Za-z])"
_EDGE_R = r"(?![0-9A-Za-z])"
_ID_NUMBER = re.compile(_EDGE_L + r"([1-9]\d{5})\d{8}(\d{3}[\dXx])" + _EDGE_R)
_PHONE = re.compile(_EDGE_L + r"(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})" + _EDGE_R)
_UNMASKED_KEYS = frozenset({"trace_id", "span_id", "timestamp", "level", "logger"})


def mask_text(text: str) -> str:
    """``text`` with ID numbers and mobile numbers masked."""
    if not any(c.isdigit() for c in text):
        return text
    text = _ID_NUMBER.sub(lambda m: f"{m[1]}********{m[2]}", text)
    return _PHONE.sub(lambda m: f"{m[1]}****{m[2]}", text)


def _mask(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if depth > 3:
        return value
    if isinstance(value, dict):
        return {k: _mask(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask(v, depth + 1) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 10**9:
        return mask_text(str(value))  # a phone number passed as a number
    return value


def mask_personal_data(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask phone and ID numbers in every value of the line."""
    for key, value in list(event_dict.items()):
        if key not in _UNMASKED_KEYS:
            event_dict[key] = _mask(value)
    return event_dict


def setup_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_personal_data,  # last before rendering: covers messages and tracebacks
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    structlog.contextvars.bind_contextvars(service=service)
    for noisy in ("pika", "kombu", "amqp", "aio_pika", "aiormq", "nameko", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def get_logger(name: str = "yiwang") -> Any:
    return structlog.get_logger(name)
