import streamlit as st

st.write("bearer test app")
