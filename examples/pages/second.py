import streamlit as st

import stauth_server as sa

st.title("Second page")
st.write("You arrived here by `sa.redirect('/second')`.")
st.write("Theme cookie seen here:", sa.cookies.get("theme", "(not set)"))
