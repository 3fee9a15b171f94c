"""Session lifecycle app: who the server says is signed in, on the main (public) page."""

import streamlit as st

import stauth_server as sa

st.text(f"logged-in={st.user.is_logged_in}")
st.text(f"who={sa.user.id or '-'} email={st.user.get('email') or '-'} roles={','.join(sorted(sa.user.roles)) or '-'}")
