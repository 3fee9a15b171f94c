import sys

import streamlit as st

import stauth_server as sa


@sa.route("/api/argv")
def argv(request: sa.Request) -> dict:
    return {"argv": sys.argv[1:], "max_upload": st.get_option("server.maxUploadSize")}
