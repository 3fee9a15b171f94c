"""Entries waiting for a browser: weights, expiry, eviction order and session ends."""

from __future__ import annotations

from stauth_server.web.pending import Parked, ParkingLot


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lot(total: int = 10, ttl: float = 60.0, clock: Clock | None = None) -> ParkingLot[Parked]:
    return ParkingLot(total=total, ttl=ttl, clock=clock or Clock())


def park(parking: ParkingLot[Parked], token: str, session_id: str, *, signed_in: bool = False, weight: int = 1,
         created: float = 1000.0) -> Parked:
    entry = Parked(token, session_id, signed_in, created, weight)
    parking.add(entry)
    return entry


def test_weights_add_up_per_session_and_in_total():
    parking = lot()
    park(parking, "a", "s1", weight=2)
    entry = park(parking, "b", "s1")
    park(parking, "c", "s2")
    parking.grow(entry, 3)
    assert parking.session_weight("s1") == 6
    assert parking.weight == 7
    parking.remove(entry)
    assert (parking.session_weight("s1"), parking.weight, len(parking)) == (2, 3, 2)


def test_expired_entries_are_gone_and_fresh_ones_stay():
    clock = Clock()
    parking = lot(ttl=60.0, clock=clock)
    park(parking, "old", "s1", created=clock.now)
    clock.now += 30
    park(parking, "new", "s2", created=clock.now)
    clock.now += 31
    assert parking.get("old") is None
    assert parking.get("new") is not None
    assert parking.weight == 1


def test_eviction_takes_the_oldest_anonymous_entry_of_another_session():
    parking = lot(total=3)
    park(parking, "alice", "alice", signed_in=True)
    park(parking, "mine", "writer")
    park(parking, "visitor", "visitor")
    park(parking, "next", "writer")
    assert parking.get("visitor") is None
    assert all(parking.get(token) for token in ("alice", "mine", "next"))


def test_signed_in_entries_go_only_when_no_other_anonymous_entry_is_left():
    parking = lot(total=2)
    park(parking, "alice", "alice", signed_in=True)
    park(parking, "mine", "writer")
    park(parking, "next", "writer")
    assert parking.get("alice") is None
    assert parking.weight == 2


def test_a_sessions_entries_go_with_it():
    parking = lot()
    park(parking, "a", "gone")
    park(parking, "b", "gone", signed_in=True)
    park(parking, "c", "alive")
    parking.drop_session("gone")
    assert parking.sessions() == ["alive"]
    assert parking.of_session("gone") == []
    assert (parking.weight, len(parking)) == (1, 1)
