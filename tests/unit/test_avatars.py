"""Generated initials avatars (stauth_server.core.avatars)."""

from __future__ import annotations

import base64

import pytest

from stauth_server.core.avatars import _PALETTE, avatar_data_url, avatar_svg, initials


@pytest.mark.parametrize("name, expected", [
    ("Ada Lovelace", "AL"),
    ("ada lovelace", "AL"),
    ("Ada King Lovelace", "AL"),       # first and last word
    ("Ada", "A"),
    ("bob@example.org", "B"),           # an email: only the part before @
    ("ada.lovelace@example.org", "AL"),  # dots and underscores separate words
    ("grace_hopper", "GH"),
    ("  Ada   Lovelace  ", "AL"),
    ("Ada (Admin) Lovelace", "AL"),     # words not starting with a letter or digit are skipped
    ("élodie durand", "ÉD"),
    ("42 Crew", "4C"),
])
def test_initials_are_up_to_two_uppercase_letters(name, expected):
    assert initials(name) == expected


@pytest.mark.parametrize("name", [None, "", "   ", "@example.org", "<>", "..."])
def test_without_usable_letters_the_initials_are_a_question_mark(name):
    assert initials(name) == "?"


def test_the_svg_shows_the_initials_on_a_palette_colour():
    svg = avatar_svg("https://idp|alice", "Ada Lovelace")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert ">AL</text>" in svg
    assert any(f'fill="{colour}"' in svg for colour in _PALETTE)


def test_the_colour_is_the_same_for_the_same_id_whatever_the_name():
    def colour(svg: str) -> str:
        return svg.split('<rect', 1)[1].split('fill="', 1)[1].split('"', 1)[0]

    assert colour(avatar_svg("https://idp|alice", "Alice")) == colour(avatar_svg("https://idp|alice", "Someone Else"))


def test_different_ids_spread_over_several_colours():
    colours = {avatar_svg(f"https://idp|user{i}", "X").split('fill="', 1)[1][:7] for i in range(40)}
    assert len(colours) > 3


def test_the_size_sets_width_and_height():
    svg = avatar_svg("id", "A", size=32)
    assert 'width="32" height="32"' in svg


def test_the_data_url_decodes_to_the_svg():
    url = avatar_data_url("https://idp|alice", "Ada Lovelace")
    prefix = "data:image/svg+xml;base64,"
    assert url.startswith(prefix)
    assert base64.b64decode(url[len(prefix):]).decode() == avatar_svg("https://idp|alice", "Ada Lovelace")


def test_markup_in_a_name_never_reaches_the_svg():
    svg = avatar_svg("id", '<script>alert(1)</script> "x" & <b>')
    assert "<script" not in svg and "<b>" not in svg
    assert svg.count("<text") == 1
