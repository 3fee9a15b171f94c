import streamlit as st

st.write("reports-page")
st.write(f"reports-logged-in={st.user.is_logged_in}")
if not st.user.is_logged_in and st.button("login-from-reports"):
    st.login()
