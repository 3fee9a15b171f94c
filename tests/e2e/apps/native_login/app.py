"""An app written for Streamlit's native st.login / st.user / st.logout, unchanged."""

import hashlib

import streamlit as st

st.session_state.setdefault("runs", 0)
st.session_state["runs"] += 1
st.write(f"logged-in={st.user.is_logged_in}")
if st.user.is_logged_in:
    st.write(f"email={st.user.email}")
    st.write(f"name={st.user.name}")
    st.write(f"provider={st.user.get('provider')}")
    tokens = st.user.get("tokens") or {}
    access = tokens.get("access") if hasattr(tokens, "get") else None
    st.write(f"access-token={hashlib.sha256(access.encode()).hexdigest()[:12] if access else 'none'}")
    if st.button("logout"):
        st.logout()
else:
    if st.button("login"):
        st.login()
