"""The kit's example app: a home page that greets whoever is there."""

import streamlit as st

import stauth_server as sa

st.title("Home")
if st.user.is_logged_in:
    st.write(f"Hello, {st.user.get('name') or st.user.email}")
    st.write(f"Roles: {', '.join(sorted(sa.user.roles)) or 'none'}")
    st.caption(f"Signed in with {st.user.provider}; locale {st.user.get('locale', 'unknown')}")
    if st.button("Sign out"):
        st.logout()
else:
    st.write("Hello, visitor")
    if st.button("Sign in"):
        st.login()
