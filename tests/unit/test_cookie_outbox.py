"""Cookie writes parked for their browser: single use, bound to one browser, batched per run."""

from __future__ import annotations

import pytest

from stauth_server.web import cookie_outbox
from stauth_server.web.cookie_outbox import DELIVERY_TTL_SECONDS, CookieOutbox, DeliveryRefused, browser_binding
from stauth_server.web.cookie_rules import build_write
from stauth_server.core.errors import CookieError
from stauth_server.web.pending import SWEEP_INTERVAL_SECONDS

BINDING = "2|aaaa|bbbb|1700000000"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(clock) -> CookieOutbox:
    return CookieOutbox(clock=clock)


def cookie(name: str = "theme", value: str | None = "dark", path: str | None = None):
    return build_write(name, value, default_path="/", page_is_https=False, path=path)


def refusal(outbox: CookieOutbox, token: str, binding: str | None) -> DeliveryRefused:
    with pytest.raises(DeliveryRefused) as raised:
        outbox.take(token, binding)
    return raised.value


def test_a_delivery_is_taken_once(outbox):
    delivery = outbox.add("s1", object(), cookie(), BINDING)
    assert [w.name for w in outbox.take(delivery.token, BINDING)] == ["theme"]
    assert refusal(outbox, delivery.token, BINDING).status == 404


def test_unknown_token_is_404(outbox):
    refused = refusal(outbox, "no-such-token", BINDING)
    assert refused.status == 404
    assert "Unknown" in refused.message


def test_tokens_are_long_and_distinct(outbox):
    tokens = {outbox.add(f"s{i}", object(), cookie(), None).token for i in range(10)}
    assert len(tokens) == 10
    assert all(len(token) >= 32 for token in tokens)


def test_another_browser_is_refused_with_403_and_does_not_consume(outbox):
    delivery = outbox.add("s1", object(), cookie(), BINDING)
    assert refusal(outbox, delivery.token, "2|other|cookie|1").status == 403
    assert refusal(outbox, delivery.token, None).status == 403
    assert refusal(outbox, delivery.token, "").status == 403
    assert [w.value for w in outbox.take(delivery.token, BINDING)] == ["dark"]


def test_unbound_delivery_is_taken_by_whoever_has_the_token(outbox):
    delivery = outbox.add("s1", object(), cookie(), None)
    assert len(outbox.take(delivery.token, "anything")) == 1


def test_a_delivery_expires(outbox, clock):
    delivery = outbox.add("s1", object(), cookie(), BINDING)
    clock.now += DELIVERY_TTL_SECONDS + 1
    assert refusal(outbox, delivery.token, BINDING).status == 404
    assert outbox.has_pending("s1") is False


def test_a_delivery_just_inside_its_ttl_is_taken(outbox, clock):
    delivery = outbox.add("s1", object(), cookie(), BINDING)
    clock.now += DELIVERY_TTL_SECONDS - 1
    assert len(outbox.take(delivery.token, BINDING)) == 1


def test_writes_in_one_run_share_one_delivery(outbox):
    marker = object()
    first = outbox.add("s1", marker, cookie("a", "1"), BINDING)
    assert outbox.add("s1", marker, cookie("b", "2"), BINDING) is None
    assert outbox.add("s1", marker, cookie("a", "3"), BINDING) is None
    writes = outbox.take(first.token, BINDING)
    assert [(w.name, w.value) for w in writes] == [("b", "2"), ("a", "3")]


def test_same_name_on_another_path_is_a_separate_write(outbox):
    marker = object()
    first = outbox.add("s1", marker, cookie("a", "1", path="/"), BINDING)
    outbox.add("s1", marker, cookie("a", "2", path="/app/"), BINDING)
    assert [(w.path, w.value) for w in outbox.take(first.token, BINDING)] == [("/", "1"), ("/app/", "2")]


def test_an_equal_but_distinct_marker_is_a_new_run(outbox):
    first = outbox.add("s1", {}, cookie("a", "1"), BINDING)
    second = outbox.add("s1", {}, cookie("b", "2"), BINDING)
    assert second is not None and second.token != first.token
    assert [w.name for w in outbox.take(first.token, BINDING)] == ["a"]
    assert [w.name for w in outbox.take(second.token, BINDING)] == ["b"]


def test_a_write_after_the_run_was_delivered_gets_a_new_delivery(outbox):
    marker = object()
    first = outbox.add("s1", marker, cookie("a", "1"), BINDING)
    outbox.take(first.token, BINDING)
    second = outbox.add("s1", marker, cookie("b", "2"), BINDING)
    assert second is not None
    assert [w.name for w in outbox.take(second.token, BINDING)] == ["b"]


def test_sessions_do_not_share_deliveries(outbox):
    marker = object()
    first = outbox.add("s1", marker, cookie("a", "1"), BINDING)
    second = outbox.add("s2", marker, cookie("b", "2"), BINDING)
    assert second is not None
    assert [w.name for w in outbox.take(first.token, BINDING)] == ["a"]


def test_view_overlays_sets_and_deletes_on_what_the_browser_sent(outbox):
    marker = object()
    outbox.add("s1", marker, cookie("theme", "dark"), None)
    outbox.add("s1", marker, cookie("old", None), None)
    sent = {"theme": "light", "old": "x", "kept": "y"}
    assert outbox.view("s1", sent) == {"theme": "dark", "kept": "y"}
    assert sent == {"theme": "light", "old": "x", "kept": "y"}


def test_view_shows_the_latest_write(outbox):
    outbox.add("s1", object(), cookie("theme", "dark"), None)
    outbox.add("s1", object(), cookie("theme", None), None)
    outbox.add("s1", object(), cookie("theme", "blue"), None)
    assert outbox.view("s1", {}) == {"theme": "blue"}


def test_view_of_another_session_is_unchanged(outbox):
    outbox.add("s1", object(), cookie("theme", "dark"), None)
    assert outbox.view("s2", {"theme": "light"}) == {"theme": "light"}


def test_take_session_hands_out_every_pending_write_in_order(outbox, clock):
    first = outbox.add("s1", object(), cookie("a", "1"), BINDING)
    clock.now += 1
    outbox.add("s1", object(), cookie("b", "2"), BINDING)
    outbox.add("s2", object(), cookie("c", "3"), BINDING)
    assert [w.name for w in outbox.take_session("s1", BINDING)] == ["a", "b"]
    assert outbox.has_pending("s1") is False
    assert outbox.has_pending("s2") is True
    assert refusal(outbox, first.token, BINDING).status == 404


def test_take_session_respects_the_binding(outbox):
    bound = outbox.add("s1", object(), cookie("a", "1"), BINDING)
    outbox.add("s1", object(), cookie("b", "2"), None)
    assert [w.name for w in outbox.take_session("s1", "2|other|cookie|1")] == ["b"]
    assert outbox.has_pending("s1") is True
    assert [w.name for w in outbox.take(bound.token, BINDING)] == ["a"]


def test_take_session_without_pending_writes_is_empty(outbox):
    assert outbox.take_session("nobody", BINDING) == []


def test_has_pending_is_false_after_take(outbox):
    delivery = outbox.add("s1", object(), cookie(), None)
    assert outbox.has_pending("s1") is True
    outbox.take(delivery.token, None)
    assert outbox.has_pending("s1") is False


def test_too_many_writes_waiting_for_one_session_raise_cookie_error(clock):
    outbox = CookieOutbox(clock, per_session=2)
    outbox.add("s1", object(), cookie(), None)
    outbox.add("s1", object(), cookie(), None)
    with pytest.raises(CookieError, match="too many"):
        outbox.add("s1", object(), cookie(), None)
    assert outbox.add("s2", object(), cookie(), None) is not None


def test_writes_batched_into_one_run_count_against_the_session_cap(clock):
    outbox = CookieOutbox(clock, per_session=2)
    marker = object()
    outbox.add("s1", marker, cookie("a", "1"), None)
    outbox.add("s1", marker, cookie("b", "2"), None)
    outbox.add("s1", marker, cookie("a", "3"), None)  # replaces a waiting write: no more room needed
    with pytest.raises(CookieError, match="too many"):
        outbox.add("s1", marker, cookie("c", "4"), None)
    assert outbox.pending_count() == 2


def test_a_refused_write_does_not_change_the_view(clock):
    outbox = CookieOutbox(clock, per_session=1)
    outbox.add("s1", object(), cookie("a", "1"), None)
    with pytest.raises(CookieError):
        outbox.add("s1", object(), cookie("b", "2"), None)
    assert outbox.view("s1", {}) == {"a": "1"}


def test_expired_deliveries_free_their_slots(clock):
    outbox = CookieOutbox(clock, per_session=1)
    outbox.add("s1", object(), cookie(), None)
    clock.now += DELIVERY_TTL_SECONDS + 1
    assert outbox.add("s1", object(), cookie(), None) is not None


def test_taken_deliveries_free_their_slots(clock):
    outbox = CookieOutbox(clock, per_session=1)
    first = outbox.add("s1", object(), cookie(), None)
    outbox.take(first.token, None)
    assert outbox.add("s1", object(), cookie(), None) is not None


def test_a_full_outbox_evicts_another_anonymous_sessions_oldest_write_instead_of_failing(clock):
    outbox = CookieOutbox(clock, total=2)
    oldest = outbox.add("flood-1", object(), cookie("a", "1"), None)
    kept = outbox.add("flood-2", object(), cookie("b", "2"), None)
    mine = outbox.add("victim", object(), cookie("c", "3"), None)
    assert [w.name for w in outbox.take(mine.token, None)] == ["c"]
    assert refusal(outbox, oldest.token, None).status == 404
    assert [w.name for w in outbox.take(kept.token, None)] == ["b"]


def test_a_sessions_own_writes_are_never_evicted_to_make_room_for_it(clock):
    outbox = CookieOutbox(clock, total=2)
    marker = object()
    first = outbox.add("s1", marker, cookie("a", "1"), None)
    other = outbox.add("s2", object(), cookie("b", "2"), None)
    outbox.add("s1", marker, cookie("c", "3"), None)
    assert [w.name for w in outbox.take(first.token, None)] == ["a", "c"]
    assert refusal(outbox, other.token, None).status == 404


def test_signed_in_writes_are_evicted_only_when_no_anonymous_write_is_left(clock):
    outbox = CookieOutbox(clock, total=2)
    signed_in = outbox.add("alice", object(), cookie("a", "1"), None, signed_in=True)
    anonymous = outbox.add("visitor", object(), cookie("b", "2"), None)
    outbox.add("bob", object(), cookie("c", "3"), None, signed_in=True)
    assert refusal(outbox, anonymous.token, None).status == 404
    assert [w.name for w in outbox.take(signed_in.token, None)] == ["a"]


def test_flood_from_1000_anonymous_sessions_never_blocks_another_users_write(clock):
    outbox = CookieOutbox(clock)
    for i in range(10_000):
        outbox.add(f"anon-{i % 1_000}", object(), cookie(f"c{i}", "x"), f"flood-browser-{i % 1_000}")
        assert outbox.pending_count() <= cookie_outbox.MAX_PENDING_TOTAL
    assert outbox.pending_count() == cookie_outbox.MAX_PENDING_TOTAL < 10_000  # the cap was reached and held
    signed_in = outbox.add("alice", object(), cookie("theme", "dark"), BINDING, signed_in=True)
    anonymous = outbox.add("visitor", object(), cookie("lang", "fr"), BINDING)
    assert [(w.name, w.value) for w in outbox.take(signed_in.token, BINDING)] == [("theme", "dark")]
    assert [(w.name, w.value) for w in outbox.take(anonymous.token, BINDING)] == [("lang", "fr")]
    assert outbox.pending_count() <= cookie_outbox.MAX_PENDING_TOTAL


def test_flooding_sessions_are_forgotten_once_they_end(clock):
    outbox = CookieOutbox(clock)
    for i in range(10_000):
        outbox.add(f"anon-{i % 1_000}", object(), cookie(f"c{i % 10}", "x"), None)
    kept = outbox.add("alice", object(), cookie("theme", "dark"), None, signed_in=True)
    outbox.forget_sessions(lambda session_id: session_id == "alice")
    assert outbox.pending_count() == 1
    assert outbox.view("anon-7", {}) == {}
    assert outbox.has_pending("anon-7") is False
    assert [w.name for w in outbox.take(kept.token, None)] == ["theme"]


def test_batching_into_an_open_delivery_is_not_a_new_delivery(clock):
    outbox = CookieOutbox(clock, per_session=2)
    marker = object()
    outbox.add("s1", marker, cookie("a", "1"), None)
    assert outbox.add("s1", marker, cookie("b", "2"), None) is None


def test_forget_sessions_drops_the_views_of_gone_sessions(outbox):
    outbox.add("gone", object(), cookie("theme", "dark"), None)
    outbox.add("alive", object(), cookie("theme", "blue"), None)
    outbox.forget_sessions(lambda session_id: session_id == "alive")
    assert outbox.view("gone", {"theme": "light"}) == {"theme": "light"}
    assert outbox.view("alive", {"theme": "light"}) == {"theme": "blue"}


def test_a_sessions_pending_writes_and_view_are_gone_after_it_ends(outbox):
    delivery = outbox.add("gone", object(), cookie("theme", "dark"), BINDING)
    outbox.forget_sessions(lambda session_id: False)
    assert outbox.has_pending("gone") is False
    assert outbox.pending_count() == 0
    assert outbox.view("gone", {}) == {}
    assert refusal(outbox, delivery.token, BINDING).status == 404
    assert outbox.take_session("gone", BINDING) == []


def test_forget_sessions_asks_streamlit_at_most_every_sweep_interval(outbox, clock):
    outbox.add("s1", object(), cookie(), None)
    asked: list[str] = []

    def is_alive(session_id: str) -> bool:
        asked.append(session_id)
        return True

    outbox.forget_sessions(is_alive)
    outbox.forget_sessions(is_alive)
    clock.now += SWEEP_INTERVAL_SECONDS
    outbox.forget_sessions(is_alive)
    assert asked == ["s1", "s1"]


def test_forget_sessions_starts_a_new_delivery_for_a_reused_session_id(outbox):
    marker = object()
    first = outbox.add("s1", marker, cookie("a", "1"), None)
    outbox.forget_sessions(lambda session_id: False)
    second = outbox.add("s1", marker, cookie("b", "2"), None)
    assert second is not None and second.token != first.token


# --- the browser binding -------------------------------------------------------------


def masked_cookie(token: bytes, mask: bytes, timestamp: int = 1700000000) -> str:
    """Tornado's v2 XSRF cookie: ``2|hex(mask)|hex(token XOR mask)|timestamp``."""
    masked = bytes(b ^ mask[i % len(mask)] for i, b in enumerate(token))
    return f"2|{mask.hex()}|{masked.hex()}|{timestamp}"


def test_binding_is_the_same_for_every_mask_of_one_browsers_token():
    token = bytes(range(16))
    first = masked_cookie(token, b"\x01\x02\x03\x04")
    second = masked_cookie(token, b"\xaa\xbb\xcc\xdd", timestamp=1800000000)
    assert first != second
    assert browser_binding(first) == browser_binding(second) == token.hex()


def test_binding_differs_between_browsers():
    mask = b"\x01\x02\x03\x04"
    assert browser_binding(masked_cookie(b"a" * 16, mask)) != browser_binding(masked_cookie(b"b" * 16, mask))


def test_binding_matches_tornados_own_decoding():
    import tornado.web

    token = bytes(range(32, 48))
    cookie = masked_cookie(token, b"\x10\x20\x30\x40")
    _, decoded, _ = tornado.web.RequestHandler._decode_xsrf_token(object(), cookie)
    assert browser_binding(cookie) == decoded.hex()


@pytest.mark.parametrize("cookie", [None, ""])
def test_no_xsrf_cookie_means_no_binding(cookie):
    assert browser_binding(cookie) is None


@pytest.mark.parametrize("cookie", ["2|zz|0011|1", "2|0102|xyz|1", "2||0011|1", "2|0102||1"])
def test_malformed_v2_cookie_still_binds_to_its_raw_value(cookie):
    assert browser_binding(cookie) == cookie


def test_a_cookie_in_another_form_is_its_own_binding():
    assert browser_binding("0123abcd") == "0123abcd"
