"""streamlit-auth tour: sign-in, roles, a guarded page, cookies, redirects and endpoints.

Run:  streamlit-auth run examples/app.py   (demo accounts are printed at start)
"""

import streamlit as st

import stauth_server as sa

st.set_page_config(page_title="streamlit-auth tour")
st.title("streamlit-auth tour")

st.session_state.setdefault("runs", 0)
st.session_state["runs"] += 1
st.caption(f"Script runs in this session: {st.session_state['runs']} (a page reload resets it)")

st.header("Sign-in")
if sa.user.is_logged_in:
    sa.avatar()
    st.write(f"Signed in as **{sa.user.name}** ({sa.user.email}); roles: {sorted(sa.user.roles) or 'none'}.")
    if sa.user.has_role("admin"):
        st.page_link("pages/admin.py", label="Open the admin page")
    st.button("Sign out", on_click=sa.logout)
else:
    st.write("Sign in with a demo account (printed in the terminal): alice is an admin, bob is not.")
    st.button("Sign in", on_click=sa.login)

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
st.markdown("[`/api/hello`](api/hello) returns JSON; [`/api/me`](api/me) needs sign-in "
            "(both in `examples/api.py`).")
