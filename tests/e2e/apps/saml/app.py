"""SAML sign-in end to end: who the app sees (sa.user and st.user), sign in and out buttons."""

import streamlit as st

import stauth_server as sa

user = sa.user
st.write(f"who={user.name or 'anonymous'} email={user.email or '-'} provider={user.provider or '-'} "
         f"roles={','.join(sorted(user.roles)) or '-'}")
st.write(f"st-user={st.user.get('email') or 'anonymous'} logged-in={st.user.is_logged_in}")
if user.is_logged_in:
    if st.button("sign out"):
        st.logout()
elif st.button("sign in"):
    st.login("corp")
