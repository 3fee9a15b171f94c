import streamlit as st

import stauth_server as sa

st.write(f"single-file-secret user={sa.user.name or '-'}")
