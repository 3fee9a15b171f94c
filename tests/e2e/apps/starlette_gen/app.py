import streamlit as st

import stauth_server as sa

st.session_state.setdefault("runs", 0)
st.session_state["runs"] += 1
st.write(f"st-user={st.user.get('email') or 'anonymous'} logged-in={st.user.get('is_logged_in')}")
st.write(f"sa-user={sa.user.name or '-'} runs={st.session_state['runs']}")
st.write(f"context-theme={st.context.cookies.get('theme', 'none')}")
if st.button("set-cookie"):
    sa.cookies.set("theme", "dark", max_age=3600)
    st.write("cookie-set-done")
