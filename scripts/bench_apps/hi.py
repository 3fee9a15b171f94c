"""The smallest Streamlit app: used by the benchmarks in scripts/."""

import streamlit as st

st.write("hi")
