import streamlit as st

import stauth_server as sa

st.session_state.setdefault("runs", 0)
st.session_state["runs"] += 1
st.write(f"runs={st.session_state['runs']}")
st.write(f"seen-theme={sa.cookies.get('theme', 'none')}")
st.write(f"context-theme={st.context.cookies.get('theme', 'none')}")

if st.button("set-cookie"):
    sa.cookies.set("theme", "dark", max_age=3600)
    st.write(f"cookie-set-done now={sa.cookies.get('theme')}")
if st.button("delete-cookie"):
    sa.cookies.delete("theme")
    st.write(f"cookie-delete-done now={sa.cookies.get('theme', 'none')}")
if st.button("set-and-redirect"):
    sa.cookies.set("flash", "hello")
    sa.redirect("/second")
if st.button("redirect-internal"):
    sa.redirect("/second")
if st.button("redirect-evil"):
    try:
        sa.redirect("//evil.example/")
    except sa.RedirectError as error:
        st.write(f"redirect-refused: {error}")
