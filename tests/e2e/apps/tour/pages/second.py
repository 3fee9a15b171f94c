import streamlit as st

import stauth_server as sa

st.write("second-page")
st.write(f"flash={sa.cookies.get('flash', 'none')}")
st.write(f"theme-here={st.context.cookies.get('theme', 'none')}")
