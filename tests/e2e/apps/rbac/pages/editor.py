import streamlit as st

import stauth_server as sa

sa.require(roles=["editor"])
st.write("editor-page")
