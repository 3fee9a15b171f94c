"""A page beside the file endpoints of ``api.py``."""

import streamlit as st

st.write("route-params-app")
