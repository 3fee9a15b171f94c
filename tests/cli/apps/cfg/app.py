import streamlit as st

st.write("cfg-app")
