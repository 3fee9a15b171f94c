"""Reconnect app: a counter kept in session_state, and who is signed in."""

import streamlit as st

import stauth_server as sa

st.session_state.setdefault("count", 0)
if st.button("count"):
    st.session_state.count += 1
st.text(f"count={st.session_state.count}")
st.text(f"who={st.user.get('email') or '-'}")
if st.button("st-logout"):
    st.logout()
