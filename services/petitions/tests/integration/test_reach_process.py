"""The petitions process as the runner starts it (its composition root builds the channels
from the environment) delivers a queued e-mail over SMTP with STARTTLS and AUTH, and a
message queued while it is killed and restarted arrives once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.petitions.service_layer import delivery
from services.petitions.tests.integration.conftest import World
from services.petitions.tests.integration.reach_servers import SmtpServer
from tests.support.resources import TestResources
from yiwang.contracts import reach as rc

pytestmark = pytest.mark.integration


def _start(
    resources: TestResources, smtp: SmtpServer, log: Any, keys: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **resources.env(
            YIWANG_KEYS_FILE=keys,
            YIWANG_REACH_EMAIL_BACKEND="smtp",
            YIWANG_SMTP_HOST="localhost",
            YIWANG_SMTP_PORT=str(smtp.port),
            YIWANG_SMTP_USERNAME=smtp.USER,
            YIWANG_SMTP_PASSWORD=smtp.PASSWORD,
            YIWANG_SMTP_CA_FILE=smtp.cert,
            YIWANG_LOG_LEVEL="WARNING",
            YIWANG_OTEL_EXPORTER="none",
        ),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "yiwang.nameko.run", "services.petitions.service:PetitionsService"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait(predicate: Any, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def test_the_service_process_delivers_over_smtp_and_survives_a_kill(
    world: World, smtp: SmtpServer, resources: TestResources, tmp_path: Any
) -> None:
    def queue(addr: str) -> int:
        req = rc.QueueMessageRequest(
            idempotency_key=f"proc-{uuid.uuid4()}",
            channel="email",
            address=addr,
            text="您反映的问题已受理",
        )
        return int(delivery.queue_message(world.uow(), req, world.clock.now())["id"])

    with open(tmp_path / "petitions.log", "wb") as log:
        proc = _start(resources, smtp, log, str(tmp_path / "keys.json"))
        try:
            # the process's clock is the real one; queue at the real time
            from yiwang.clock import SystemClock

            world.clock = SystemClock()  # type: ignore[assignment]
            first = queue("first@example.org")
            assert _wait(lambda: len(smtp.received) == 1), (tmp_path / "petitions.log").read_text()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            second = queue("second@example.org")  # queued while no sender runs
            time.sleep(1.5)
            assert len(smtp.received) == 1
            proc = _start(resources, smtp, log, str(tmp_path / "keys.json"))
            assert _wait(lambda: len(smtp.received) == 2), (tmp_path / "petitions.log").read_text()
            time.sleep(2.5)  # a few more delivery ticks: nothing again
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert sorted(str(m["To"]) for m in smtp.received) == [
        "first@example.org",
        "second@example.org",
    ]
    assert smtp.insecure_or_anonymous == 0
    keys = smtp.keys()
    assert set(keys.values()) == {1} and len(keys) == 2 and first != second
