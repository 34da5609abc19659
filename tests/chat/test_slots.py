"""The slot rule of digital routing (``plan_slots``), pure: capacity, one ready slot, pauses, wrap-ups."""

from __future__ import annotations

from kefu.routing.digital import plan_slots
from kefu.routing.types import Presence as P

A, B, C = 101, 102, 103


def test_open_agent_gets_exactly_one_ready_slot_while_below_capacity():
    assert plan_slots({A: P.LOGGED_OUT, B: P.LOGGED_OUT, C: P.LOGGED_OUT}, is_open=True, reset=False, owed=0) == [
        (A, P.READY)
    ]
    assert plan_slots({A: P.BUSY, B: P.LOGGED_OUT, C: P.LOGGED_OUT}, is_open=True, reset=False, owed=0) == [
        (B, P.READY)
    ]
    assert plan_slots({A: P.BUSY, B: P.OFFERED, C: P.BUSY}, is_open=True, reset=False, owed=0) == []  # full
    assert plan_slots({A: P.READY, B: P.READY, C: P.BUSY}, is_open=True, reset=False, owed=0) == [(B, P.LOGGED_OUT)]


def test_closing_logs_out_ready_slots_and_withdraws_ringing_offers_but_keeps_open_chats():
    changes = plan_slots({A: P.BUSY, B: P.OFFERED, C: P.READY}, is_open=False, reset=False, owed=0)
    assert changes == [(B, P.LOGGED_OUT), (C, P.LOGGED_OUT)]


def test_a_ring_out_pauses_the_channel_until_the_agent_is_ready_again():
    paused = {A: P.NOT_READY, B: P.READY, C: P.LOGGED_OUT}
    assert plan_slots(paused, is_open=True, reset=False, owed=0) == [(B, P.LOGGED_OUT)]
    assert plan_slots({A: P.NOT_READY, B: P.LOGGED_OUT, C: P.LOGGED_OUT}, is_open=True, reset=True, owed=0) == [
        (A, P.LOGGED_OUT),
        (A, P.READY),
    ]


def test_a_slot_in_wrap_up_is_freed_only_once_its_wrap_up_is_recorded():
    state = {A: P.WRAP_UP, B: P.WRAP_UP, C: P.BUSY}
    assert plan_slots(state, is_open=True, reset=False, owed=2) == []  # both wrap-ups still owed, capacity full
    assert plan_slots(state, is_open=True, reset=False, owed=1) == [(B, P.LOGGED_OUT), (B, P.READY)]
