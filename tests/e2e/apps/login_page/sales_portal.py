"""The login page's app: its page title and logo are what the login page shows by default."""

import streamlit as st

import stauth_server as sa

st.set_page_config(page_title="Sales Portal")
st.logo("logo.png")
st.write(f"who={sa.user.name or 'anonymous'} provider={sa.user.provider or '-'} email={sa.user.email or '-'} "
         f"roles={','.join(sorted(sa.user.roles)) or '-'}")
