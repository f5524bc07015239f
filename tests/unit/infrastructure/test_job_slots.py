"""Slots of scheduled jobs: the next slot after a run, missed slots skipped, cron fire times (written out by
hand as the reference), and the in-process job store's claim rules."""

from datetime import UTC, datetime

from src.common.jobs import Cron, Every, JobSpec
from src.infrastructure.scheduling.job_store import InProcessJobStore, JobRun
from src.infrastructure.scheduling.scheduler import JobScheduler, _Job


async def _nothing() -> None:
    return None


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_the_slot_after_a_run_on_time_is_one_period_later():
    job = _Job("j", _nothing, Every(3600))
    assert job.slot_after(ts("2026-01-05T00:00:00"), ts("2026-01-05T00:00:02")) == ts("2026-01-05T01:00:00")


def test_slots_missed_while_down_are_skipped_and_the_grid_is_kept():
    job = _Job("j", _nothing, Every(6 * 3600))
    # Down from before 00:00 until 13:10: the 00:00 slot runs at 13:10, then 06:00 and 12:00 are not replayed.
    assert job.slot_after(ts("2026-01-05T00:00:00"), ts("2026-01-05T13:10:00")) == ts("2026-01-05T18:00:00")


def test_cron_slots_are_the_next_matching_minute_after_the_slot_and_now():
    job = _Job("j", _nothing, Cron(day_of_week="mon-fri", hour="9-17", minute="0"))
    friday_five_pm, monday_nine_am = ts("2026-01-09T17:00:00"), ts("2026-01-12T09:00:00")
    assert job.slot_after(friday_five_pm, friday_five_pm + 40) == monday_nine_am
    assert job.first_slot(ts("2026-01-12T09:00:00")) == ts("2026-01-12T10:00:00")  # strictly after now
    assert job.first_slot(ts("2026-01-12T08:59:59.5")) == monday_nine_am


async def test_a_slot_is_claimed_once_and_only_while_it_is_the_slot_due():
    store = InProcessJobStore()
    await store.register("j", "every 60s", 100.0)
    assert not await store.claim("j", "b", now=100.0, lease_s=10, slot=40.0)  # an old slot: already run
    assert await store.claim("j", "a", now=100.0, lease_s=10, slot=100.0)
    assert not await store.claim("j", "b", now=105.0, lease_s=10, slot=100.0)  # held
    assert not await store.claim("j", "b", now=105.0, lease_s=10, slot=None)
    assert await store.claim("j", "b", now=111.0, lease_s=10, slot=100.0)  # a's lease expired: a died
    await store.finish("j", "a", JobRun(100.0, 101.0, "ok"), next_run=160.0)  # too late: not a's any more
    state = (await store.states(["j"]))["j"]
    assert (state.owner, state.next_run, state.last_run) == ("b", 100.0, None)
    await store.finish("j", "b", JobRun(111.0, 112.0, "ok"), next_run=160.0)
    state = (await store.states(["j"]))["j"]
    assert (state.owner, state.next_run, state.last_run.outcome) == (None, 160.0, "ok")


async def test_a_run_on_demand_leaves_the_schedule_alone():
    store = InProcessJobStore()
    scheduler = JobScheduler(store, clock=lambda: 1000.0)
    scheduler.add(JobSpec("j", Every(60), _nothing))
    run = await scheduler.run("j")
    assert (run.outcome, run.slot) == ("ok", None)
    [row] = await scheduler.status()
    assert row["next_run"] == 1060.0 and row["last_run"]["outcome"] == "ok" and row["running"] is False
