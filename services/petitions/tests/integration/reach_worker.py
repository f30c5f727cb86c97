"""A separate delivery process for the crash test: delivers due e-mail messages over SMTP
until none are left (the test kills it with SIGKILL in the middle of a batch).

``python -m services.petitions.tests.integration.reach_worker DB_URL SMTP_PORT CA_FILE NOW``
"""

from __future__ import annotations

import ssl
import sys
from datetime import datetime

from services.petitions.adapters.channels import SmtpChannel, SmtpConfig
from services.petitions.service_layer import delivery
from yiwang.db import make_engine
from yiwang.uow import uow_factory


def main(argv: list[str]) -> int:
    url, port, ca_file, now = argv
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False
    smtp = SmtpChannel(
        SmtpConfig(
            host="127.0.0.1",
            port=int(port),
            username="yiwang",
            password="smtp-secret",
            ssl_context=ctx,
        )
    )
    courier = delivery.Courier(
        channels={"email": smtp}, cfg=delivery.DeliveryConfig(batch=50, lease_s=60)
    )
    factory = uow_factory(make_engine(url), producer="petitions", schema="petitions")
    at = datetime.fromisoformat(now)
    print("ready", flush=True)
    while delivery.deliver_pending(factory, courier, at):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
