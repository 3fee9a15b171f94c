"""Guarded by a page rule only: [auth.access] reports = ["analyst"]."""

import streamlit as st

st.title("Reports")
st.write(f"Reports for {st.user.email}")
