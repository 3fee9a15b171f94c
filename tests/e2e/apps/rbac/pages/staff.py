import streamlit as st

st.write("staff-page")
