"""Three lists (三张清单), micro-wishes (微心愿), teams and activities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.volunteers.adapters import repository as repo
from services.volunteers.adapters.tables import activities, list_items, wishes
from services.volunteers.domain import teams as td
from services.volunteers.domain.common import TimeWindow
from services.volunteers.domain.lists import CommunityLists, ListKind, ResourceType
from services.volunteers.domain.wishes import ClaimerKind, WishFulfilled, WishTree
from services.volunteers.service_layer.common import new_id, staff_of
from yiwang.clock import SHANGHAI
from yiwang.contracts import volunteers as c
from yiwang.errors import ValidationFailed
from yiwang.uow import UnitOfWork

# --- three lists ---------------------------------------------------------------------------


def add_list_item(uow: UnitOfWork, req: c.AddListItemRequest, now: datetime) -> dict[str, Any]:
    item = CommunityLists(req.community_code).add(
        item_id=new_id("item"),
        kind=ListKind(req.kind),
        title=req.title,
        description=req.description,
        submitted_by=req.submitted_by,
        now=now,
        tags=req.tags,
        resource_type=ResourceType(req.resource_type) if req.resource_type else None,
        quantity=req.quantity,
    )
    with uow:
        repo.add_item(uow.session, item)
        uow.commit()
    return repo.item_view(item)


def move_list_item(uow: UnitOfWork, req: c.MoveListItemRequest, now: datetime) -> dict[str, Any]:
    with uow:
        item = repo.get_item(uow.session, req.item_id)
        loaded = item.version
        getattr(item, req.action)(staff_of(req.staff, item.community_code), now)
        repo.save_item(uow.session, item, loaded)
        uow.commit()
    return repo.item_view(item)


def search_list(uow: UnitOfWork, req: c.SearchListRequest) -> dict[str, Any]:
    t = list_items
    conds = [t.c.community_code == req.community_code]
    if req.kind:
        conds.append(t.c.kind == req.kind)
    with uow:
        rows = uow.session.execute(sa.select(t).where(*conds)).mappings().all()
    lists = CommunityLists(req.community_code)
    for r in rows:
        item = repo.item_from_row(r)
        lists.items[item.item_id] = item
    found = lists.search(
        req.text,
        tags=req.tags,
        kind=ListKind(req.kind) if req.kind else None,
        public_only=req.public_only,
        resource_type=ResourceType(req.resource_type) if req.resource_type else None,
    )
    return {"items": [repo.item_view(i) for i in found[: req.limit]]}


# --- micro-wishes --------------------------------------------------------------------------


def _wish_command(uow: UnitOfWork, wish_id: str, now: datetime, fn: Any) -> dict[str, Any]:
    with uow:
        wish = repo.get_wish(uow.session, wish_id)
        loaded = wish.version
        fn(wish)
        repo.save_wish(uow.session, wish, loaded, now)
        for ev in wish.pull_events():
            if isinstance(ev, WishFulfilled):
                uow.emit(
                    c.WishFulfilledV1(
                        wish_id=ev.wish_id,
                        community_code=ev.community_code,
                        claimer_kind=ev.claimer_kind,  # type: ignore[arg-type]
                        claimer_id=ev.claimer_id,
                        occurred_at=ev.occurred_at,
                    ),
                    jurisdiction_code=ev.community_code,
                )
        uow.commit()
    return repo.wish_view(wish)


def post_wish(uow: UnitOfWork, req: c.PostWishRequest, now: datetime) -> dict[str, Any]:
    wish = WishTree(req.community_code).post(
        wish_id=new_id("wish"),
        poster_id=req.poster_id,
        beneficiary=req.beneficiary,
        title=req.title,
        description=req.description,
        now=now,
        value_fen=req.value_fen,
    )
    with uow:
        repo.add_wish(uow.session, wish, now)
        uow.commit()
    return repo.wish_view(wish)


def review_wish(uow: UnitOfWork, req: c.ReviewWishRequest, now: datetime) -> dict[str, Any]:
    def apply(w: Any) -> None:
        staff = staff_of(req.staff, w.community_code)
        if req.action == "reject":
            w.reject(staff, req.reason, now)
        else:
            getattr(w, req.action)(staff, now)

    return _wish_command(uow, req.wish_id, now, apply)


def claim_wish(uow: UnitOfWork, req: c.ClaimWishRequest, now: datetime) -> dict[str, Any]:
    return _wish_command(
        uow, req.wish_id, now, lambda w: w.claim(ClaimerKind(req.claimer_kind), req.claimer_id, now)
    )


def fulfil_wish(uow: UnitOfWork, req: c.FulfilWishRequest, now: datetime) -> dict[str, Any]:
    return _wish_command(
        uow,
        req.wish_id,
        now,
        lambda w: w.fulfil(req.claimer_id, req.proof_note, now, tuple(req.photos)),
    )


def withdraw_wish(uow: UnitOfWork, req: c.WithdrawWishRequest, now: datetime) -> dict[str, Any]:
    if req.as_claimer:
        return _wish_command(uow, req.wish_id, now, lambda w: w.release(req.actor_id, now))
    return _wish_command(uow, req.wish_id, now, lambda w: w.withdraw(req.actor_id, now))


def wish_tree(uow: UnitOfWork, req: c.WishTreeRequest) -> dict[str, Any]:
    with uow:
        rows = (
            uow.session.execute(
                sa.select(wishes).where(wishes.c.community_code == req.community_code)
            )
            .mappings()
            .all()
        )
    tree = WishTree(req.community_code)
    for r in rows:
        w = repo.wish_from_row(r)
        tree.wishes[w.wish_id] = w
    return {
        "community_code": req.community_code,
        "leaves": [repo.wish_view(w) for w in tree.leaves()],
        "counts": tree.counts(),
    }


# --- teams and activities ----------------------------------------------------------------


def create_team(uow: UnitOfWork, req: c.CreateTeamRequest, now: datetime) -> dict[str, Any]:
    staff_of(req.staff, req.community_code).require_covers(req.community_code)
    team = td.Team(
        team_id=new_id("team"),
        community_code=req.community_code,
        name=req.name,
        leader_ids=set(req.leader_ids),
    )
    with uow:
        repo.add_team(uow.session, team, now)
        uow.commit()
    return repo.team_view(team)


def change_team(uow: UnitOfWork, req: c.ChangeTeamRequest, now: datetime) -> dict[str, Any]:
    with uow:
        team = repo.get_team(uow.session, req.team_id)
        loaded = team.version
        if req.action in ("appoint_leader", "dismiss_leader"):
            if req.staff is None:
                raise ValidationFailed(
                    "staff_required", "community staff appoint leaders", "队长由社区工作人员任免"
                )
            getattr(team, req.action)(staff_of(req.staff, team.community_code), req.person_id)
        else:
            getattr(team, req.action)(req.by or "", req.person_id)
        repo.save_team(uow.session, team, loaded, now)
        uow.commit()
    return repo.team_view(team)


def plan_activity(uow: UnitOfWork, req: c.PlanActivityRequest, now: datetime) -> dict[str, Any]:
    with uow:
        team = repo.get_team(uow.session, req.team_id)
        act = td.plan_activity(
            team,
            req.by,
            activity_id=new_id("act"),
            title=req.title,
            description=req.description,
            window=TimeWindow(req.window_start, req.window_end),
            place=req.place,
            capacity=req.capacity,
        )
        repo.add_activity(uow.session, act, now)
        uow.commit()
    return repo.activity_view(act)


def act_on_activity(uow: UnitOfWork, req: c.ActOnActivityRequest, now: datetime) -> dict[str, Any]:
    """Sign-ups lock the activity row: many residents signing up at once queue up and
    the last seats go to the first, never beyond capacity."""
    with uow:
        act = repo.get_activity(uow.session, req.activity_id, for_update=True)
        loaded = act.version
        if req.action in ("publish", "cancel"):
            team = repo.get_team(uow.session, act.team_id)
            getattr(act, req.action)(team, req.person_id, now)
        elif req.action == "rate":
            if req.stars is None:
                raise ValidationFailed("invalid_rating", "stars are required", "请填写评分")
            act.rate(req.person_id, req.stars, now)
        else:
            getattr(act, req.action)(req.person_id, now)
        repo.save_activity(uow.session, act, loaded, now)
        uow.commit()
    return repo.activity_view(act)


def monthly_programme(uow: UnitOfWork, req: c.MonthlyProgrammeRequest) -> dict[str, Any]:
    start = datetime(req.year, req.month, 1, tzinfo=SHANGHAI)
    end = datetime(req.year + (req.month == 12), req.month % 12 + 1, 1, tzinfo=SHANGHAI)
    t = activities
    with uow:
        rows = (
            uow.session.execute(
                sa.select(t).where(
                    t.c.community_code == req.community_code,
                    t.c.starts_at >= start,
                    t.c.starts_at < end,
                )
            )
            .mappings()
            .all()
        )
    acts = [repo.activity_from_row(r) for r in rows]
    chosen = td.monthly_programme(acts, req.community_code, req.year, req.month)
    return {"items": [repo.activity_view(a) for a in chosen]}
