import streamlit as st

import stauth_server as sa

st.title("Admin")
st.write(f"Only the **admin** role opens this page ([auth.access]); you are {sa.user.name}.")
