"""streamlit-auth tour: cookies, redirects and custom endpoints in one app.

Run:  streamlit-auth run examples/app.py --routes examples/api.py
"""

import streamlit as st

import stauth_server as sa

st.set_page_config(page_title="streamlit-auth tour")
st.title("streamlit-auth tour")

st.session_state.setdefault("runs", 0)
st.session_state["runs"] += 1
st.caption(f"Script runs in this session: {st.session_state['runs']} (a page reload resets it)")

st.header("Headers and cookies you read")
st.write("Your browser:", st.context.headers.get("User-Agent", "unknown"))
st.write("Theme cookie:", sa.cookies.get("theme", "(not set)"))

st.header("A cookie you write")
col_set, col_delete = st.columns(2)
if col_set.button("Set theme=dark"):
    sa.cookies.set("theme", "dark", max_age=3600)
    st.success("Set: HttpOnly, SameSite=Lax, no page reload.")
if col_delete.button("Delete theme"):
    sa.cookies.delete("theme")
    st.info("Deleted.")

st.header("Redirects")
if st.button("Go to the second page"):
    sa.redirect("/second")
if st.button("Try an open redirect (refused)"):
    try:
        sa.redirect("//evil.example/")
    except sa.RedirectError as error:
        st.error(f"Refused: {error}")

st.header("Custom endpoints")
st.markdown("[`/api/hello`](api/hello) returns JSON from `examples/api.py`.")
