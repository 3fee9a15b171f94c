import streamlit as st

import stauth_server as sa

st.write(f"proxy-user={sa.user.email or 'anonymous'}")
st.write(f"header-seen={st.context.headers.get('X-Forwarded-User', 'none')}")
