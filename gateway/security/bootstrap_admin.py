"""Create the first administrator of a deployment (outside the demo):

``YIWANG_ADMIN_PASSWORD=… python -m gateway.security.bootstrap_admin --username admin``

The password is read from an environment variable (default ``YIWANG_ADMIN_PASSWORD``; in
Kubernetes from a Secret), never from the command line, where ``ps`` and shell history
would show it. Idempotent, so it can run as a Job on every deployment: when the account
exists nothing changes (exit 0) unless ``--reset-password`` is given. Accounts are created
through ``gateway.security.store`` with an argon2id hash (``credentials.hash_password``).
Exit codes: 0 created or present, 2 usage (no or too short password), 3 the name belongs
to an account that is not an administrator.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from sqlalchemy.engine import Engine

from gateway.security import credentials as cred
from gateway.security import store

MIN_PASSWORD_LENGTH = 12


def bootstrap_admin(
    engine: Engine,
    username: str,
    password: str,
    *,
    display_name: str = "系统管理员",
    reset_password: bool = False,
) -> str:
    """``created``, ``exists``, ``password_reset`` or ``not_admin``."""
    row = store.find_account(engine, username=username)
    if row is not None:
        if row.role != "admin":
            return "not_admin"
        if reset_password:
            store.set_password_hash(engine, row.id, cred.hash_password(password))
            return "password_reset"
        return "exists"
    store.create_account(
        engine,
        username=username,
        display_name=display_name,
        role="admin",
        jurisdiction_code="",  # everywhere
        password_hash=cred.hash_password(password),
        active=True,
    )
    return "created"


def main(argv: list[str] | None = None, environ: dict[str, Any] | None = None) -> int:
    from yiwang.config import Settings
    from yiwang.db import make_engine

    env = os.environ if environ is None else environ
    p = argparse.ArgumentParser(
        prog="python -m gateway.security.bootstrap_admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--username", required=True)
    p.add_argument("--display-name", default="系统管理员")
    p.add_argument(
        "--password-env",
        default="YIWANG_ADMIN_PASSWORD",
        help="environment variable holding the password",
    )
    p.add_argument(
        "--reset-password",
        action="store_true",
        help="set the password of the existing administrator",
    )
    args = p.parse_args(argv)
    password = env.get(args.password_env, "")
    if len(password) < MIN_PASSWORD_LENGTH:
        print(
            f"{args.password_env} must hold a password of at least {MIN_PASSWORD_LENGTH} "
            "characters",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(Settings().database_url, pool_size=1)
    try:
        outcome = bootstrap_admin(
            engine,
            args.username,
            password,
            display_name=args.display_name,
            reset_password=args.reset_password,
        )
    finally:
        engine.dispose()
    if outcome == "not_admin":
        print(f"account {args.username!r} exists and is not an administrator", file=sys.stderr)
        return 3
    print(f"administrator {args.username!r}: {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
