"""The image's HEALTHCHECK: ``python -m infra.healthcheck``.

One image runs every process, so the check asks whichever probe the process serves: the
gateway's ``/live`` on ``YIWANG_GATEWAY_PORT``, else a service's ``/live`` on
``YIWANG_METRICS_PORT``. Exit 0 when one answers 200 within 2 s.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def urls(env: dict[str, str]) -> list[str]:
    out = [f"http://127.0.0.1:{env.get('YIWANG_GATEWAY_PORT', '8000')}/live"]
    if env.get("YIWANG_METRICS_PORT", "0") not in ("", "0"):
        out.append(f"http://127.0.0.1:{env['YIWANG_METRICS_PORT']}/live")
    return out


def main() -> int:
    for url in urls(dict(os.environ)):
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback only
                if r.status == 200:
                    return 0
        except OSError:
            continue
    return 1


if __name__ == "__main__":
    sys.exit(main())
