"""Demo accounts: one per role, bound to units of the demo city, plus one Open311 API key.

``python -m gateway.security.seed [--city 3299] [--district 329901] [--street 329901001]
[--community 329901001001] [--grid 329901001001001]`` (idempotent: re-running resets the
demo accounts' passwords and bindings). The gateway never reads the grids schema: pass the
unit codes of your demo city.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy.engine import Engine

from gateway.security import credentials as cred
from gateway.security import store

DEMO_PASSWORD = "yiwang-demo"
DEMO_OPEN311_KEY = "yw_demo_open311_3299_do_not_use_in_production"
DEMO_OPEN311_ACTIONS = ["reports.*", "open311.*"]


def demo_accounts(
    city: str, district: str, street: str, community: str, grid: str
) -> list[dict[str, Any]]:
    """The demo table (also printed by the CLI for the README)."""
    return [
        dict(username="demo_admin", display_name="系统管理员", role="admin", jurisdiction_code=""),
        dict(
            username="demo_leader",
            display_name="李市长",
            role="leader",
            jurisdiction_code=city,
            can_unmask=True,
        ),
        dict(
            username="demo_city",
            display_name="陈指挥长",
            role="city_staff",
            jurisdiction_code=city,
            can_unmask=True,
        ),
        dict(
            username="demo_district",
            display_name="赵区干部",
            role="district_staff",
            jurisdiction_code=district,
        ),
        dict(
            username="demo_street",
            display_name="钱街道干事",
            role="street_staff",
            jurisdiction_code=street,
        ),
        dict(
            username="demo_community",
            display_name="孙社区书记",
            role="community_staff",
            jurisdiction_code=community,
            can_unmask=True,
        ),
        dict(
            username="demo_grid",
            display_name="周网格员",
            role="grid_worker",
            jurisdiction_code=grid,
            phone="13800000002",
            # the grids demo data names each grid's leader W<grid code>L
            person_id=f"W{grid}L",
        ),
        dict(
            username="demo_dept",
            display_name="吴城管经办",
            role="department_handler",
            jurisdiction_code=city,
            department="urban_management",
        ),
        dict(
            username="demo_volunteer",
            display_name="郑志愿者",
            role="volunteer",
            jurisdiction_code=community,
            phone="13800000003",
        ),
        dict(
            username="demo_citizen",
            display_name="王市民",
            role="citizen",
            jurisdiction_code=city,
            phone="13800000001",
        ),
        dict(
            username="demo_enterprise",
            display_name="冯企业联络员",
            role="enterprise_user",
            jurisdiction_code=district,
            enterprise_id="demo-enterprise-1",
        ),
        dict(
            username="demo_institution",
            display_name="褚机构联络员",
            role="institution_user",
            jurisdiction_code=city,
            institution_id="demo-institution-1",
        ),
    ]


def demo_present(engine: Engine) -> bool:
    """True when a demo account or the demo Open311 key exists (production refuses)."""
    names = [a["username"] for a in demo_accounts("", "", "", "", "")]
    if any(store.find_account(engine, username=n) is not None for n in names):
        return True
    return store.find_api_key(engine, cred.sha256_hex(DEMO_OPEN311_KEY)) is not None


def seed_demo_accounts(
    engine: Engine,
    city_code: str,
    district: str,
    street: str,
    community: str,
    grid: str,
    *,
    password: str = DEMO_PASSWORD,
) -> list[dict[str, Any]]:
    """Create or reset one account per role and the demo Open311 key. Idempotent."""
    pw_hash = cred.hash_password(password)
    out: list[dict[str, Any]] = []
    for spec in demo_accounts(city_code, district, street, community, grid):
        values = {
            "phone": None,
            "department": None,
            "enterprise_id": None,
            "institution_id": None,
            "person_id": None,
            "can_unmask": False,
            "active": True,
            **spec,
        }
        username = values.pop("username")
        row = store.upsert_account(engine, username, password_hash=pw_hash, **values)
        out.append(store.account_to_dict(row))
    store.create_api_key(
        engine,
        key_hash=cred.sha256_hex(DEMO_OPEN311_KEY),
        key_prefix=DEMO_OPEN311_KEY[:10],
        name="Open311 demo client",
        actions=DEMO_OPEN311_ACTIONS,
        jurisdiction_code=city_code,
        created_by="seed",
    )
    return out


def main(argv: list[str] | None = None) -> int:
    from yiwang.config import Settings
    from yiwang.db import make_engine

    p = argparse.ArgumentParser(prog="python -m gateway.security.seed", description=__doc__)
    p.add_argument("--city", default="3299")
    p.add_argument("--district", default="329901")
    p.add_argument("--street", default="329901001")
    p.add_argument("--community", default="329901001001")
    p.add_argument("--grid", default="329901001001001")
    p.add_argument("--password", default=DEMO_PASSWORD)
    args = p.parse_args(argv)
    engine = make_engine(Settings().database_url, pool_size=1)
    try:
        rows = seed_demo_accounts(
            engine,
            args.city,
            args.district,
            args.street,
            args.community,
            args.grid,
            password=args.password,
        )
    finally:
        engine.dispose()
    print("| username | role | name | bound to | phone | password |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        bound = r["jurisdiction_code"] or "(everywhere)"
        if r["department"]:
            bound += f" / {r['department']}"
        print(
            f"| {r['username']} | {r['role']} | {r['display_name']} | {bound} | "
            f"{r['phone'] or ''} | {args.password} |"
        )
    print(f"\nOpen311 API key (X-API-Key / api_key): {DEMO_OPEN311_KEY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
