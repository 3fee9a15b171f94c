"""Admins only: [auth.access] admin = ["admin"]."""

import streamlit as st

st.text("admin-page")
