"""Firebase sign-in end to end: who the app sees, and a sign-out button."""

import streamlit as st

import stauth_server as sa

user = sa.user
st.write(f"who={user.name or 'anonymous'} provider={user.provider or '-'} id={user.id or '-'} "
         f"roles={','.join(sorted(user.roles)) or '-'}")
if user.is_logged_in:
    if st.button("sign out"):
        st.logout()
elif st.button("sign in"):
    st.login("firebase")
