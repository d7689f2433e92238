"""The core's side of a community: wider moderation scopes and a shared daily pool, the
same for any adapter that names them."""

from __future__ import annotations

from bots.core import render
from bots.core.moderation import Rules
from bots.core.service import ClipService, CoreConfig, Refusal, Submitted, Who
from bots.i18n import duration, t
from storage import QuotaLimits, SharedPool, Storage

LIMITS = QuotaLimits(daily_clips=10, daily_gpu_s=10_000.0, max_inflight=5)
POOL = SharedPool("test:g1", 2)


def who(user: str, scopes: tuple[str, ...] = ("g1",)) -> Who:
    return Who("test", user, "room-1", "es", scopes=scopes)


async def test_pool_refusal_is_specific_and_localised(storage: Storage) -> None:
    service = ClipService(storage, CoreConfig(limits=LIMITS))
    for i, user in enumerate(("ana", "ben")):
        res = await service.request_video(who(user), "a kite", idem_key=f"p{i}", pool=POOL)
        assert isinstance(res, Submitted)
    res = await service.request_video(who("cy"), "a kite", idem_key="p2", pool=POOL)
    assert isinstance(res, Refusal) and res.key == "pool_clips"
    assert res.params["limit"] == "2" and 0 < res.params["reset_s"] <= 86400
    text = render.refusal("es", res)
    assert text == t("es", "pool_clips", limit="2", reset=duration("es", res.params["reset_s"]))
    assert "{" not in text
    # Retry and Vary draw on the same pool; without one, only the user's quota counts.
    job = (await service.my_jobs(who("ana")))[0]
    again = await service.again(who("ana"), job.id, vary=True, idem_key="p3", reply={},
                                pool=POOL)
    assert isinstance(again, Refusal) and again.key == "pool_clips"
    assert isinstance(await service.again(who("ana"), job.id, vary=False, idem_key="p4",
                                          reply={}), Submitted)
    assert (await service.quota(who("cy"))).used_clips == 0


async def test_rules_scoped_to_a_wider_place_apply_through_the_core(storage: Storage) -> None:
    rules = Rules.from_data([{"name": "g1 rule", "words": ["sword"], "chats": ["g1"]}])
    service = ClipService(storage, CoreConfig(limits=LIMITS, rules=rules))
    res = await service.request_video(who("ana"), "a sword", idem_key="m1")
    assert res == Refusal("moderation", {"rule": "g1 rule"})
    other = await service.request_video(who("ana", ("g2",)), "a sword", idem_key="m2")
    assert isinstance(other, Submitted)
