"""Admins only, by a guard in the script."""

import streamlit as st

import stauth_server as sa

user = sa.require(roles=["admin"])
st.title("Admin")
st.write(f"Signed in as {user.email}")


@sa.requires(roles=["auditor"])
def audit_panel() -> None:
    st.write("Audit log")


audit_panel()
