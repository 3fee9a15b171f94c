"""Which apps ``internals.route_single_file_app_through_navigation`` routes through the v1
pages path (so page rules and middlewares run before their only script)."""

from __future__ import annotations

import pytest
from streamlit.runtime.pages_manager import PagesManager

from stauth_server.streamlit import internals


@pytest.fixture(autouse=True)
def restore_flag():
    saved = PagesManager.uses_pages_directory
    yield
    PagesManager.uses_pages_directory = saved


@pytest.mark.parametrize("source", [
    "import streamlit as st\nst.write('hi')\n",
    "import streamlit as st\nst.title('navigator')  # the word in a string or comment: navigation\n",
])
def test_a_plain_single_file_app_is_routed(tmp_path, source):
    script = tmp_path / "app.py"
    script.write_text(source)
    PagesManager.uses_pages_directory = None
    assert internals.route_single_file_app_through_navigation(str(script)) is True
    assert PagesManager.uses_pages_directory is True


@pytest.mark.parametrize("source", [
    "import streamlit as st\nst.navigation([st.Page('a.py')]).run()\n",
    "from streamlit import navigation, Page\nnavigation([Page('a.py')]).run()\n",
    "import streamlit as st\nnav = st.navigation\nnav([st.Page('a.py')]).run()\n",
])
def test_an_app_that_picks_its_own_pages_is_left_alone(tmp_path, source):
    """Routing it would guard a page list of one before the script could list its pages:
    a middleware redirecting '/' would loop (seen in CI before this rule)."""
    script = tmp_path / "app.py"
    script.write_text(source)
    PagesManager.uses_pages_directory = None
    assert internals.route_single_file_app_through_navigation(str(script)) is False
    assert PagesManager.uses_pages_directory is None


def test_an_app_with_a_pages_folder_is_left_to_streamlit(tmp_path):
    (tmp_path / "pages").mkdir()
    script = tmp_path / "app.py"
    script.write_text("import streamlit as st\n")
    PagesManager.uses_pages_directory = None
    assert internals.route_single_file_app_through_navigation(str(script)) is False
