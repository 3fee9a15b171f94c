"""A one-line app that reads st.user: used by scripts/bench_pageload.py.

``st.user.get`` rather than ``st.user.is_logged_in``: under plain ``streamlit run`` with no
``[auth]`` configured, Streamlit's ``st.user`` has no ``is_logged_in`` attribute at all.
"""

import streamlit as st

st.write(f"logged-in={bool(st.user.get('is_logged_in'))}")
