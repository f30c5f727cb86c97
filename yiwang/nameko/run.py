"""Run one nameko service: ``python -m yiwang.nameko.run services.petitions.service:PetitionsService``.

This is each service process's composition root: it monkey-patches eventlet first,
reads ``Settings``, sets up logging and tracing, builds the nameko config and runs the
service until SIGTERM/SIGINT.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import importlib  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from yiwang.config import Settings  # noqa: E402
from yiwang.logging import get_logger, setup_logging  # noqa: E402
from yiwang.metrics import serve as serve_metrics  # noqa: E402
from yiwang.nameko.config import nameko_config  # noqa: E402
from yiwang.tracing import setup_tracing  # noqa: E402


def load_class(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m yiwang.nameko.run module:ServiceClass", file=sys.stderr)
        return 2
    cls = load_class(argv[0])
    settings = Settings()
    setup_logging(cls.name, settings.log_level, settings.log_format)
    setup_tracing(cls.name, settings.otel_exporter, settings.otel_endpoint, settings.var_dir)
    log = get_logger("yiwang.run")
    runner = ServiceRunner(nameko_config(settings, cls.name))
    runner.add_service(cls)

    def shutdown(signum: int, frame: Any) -> None:
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    if settings.metrics_port:
        serve_metrics(settings.metrics_port)
    runner.start()
    log.info("service_started", service=cls.name)
    try:
        runner.wait()
    except KeyboardInterrupt:  # pragma: no cover
        runner.stop()
    log.info("service_stopped", service=cls.name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
