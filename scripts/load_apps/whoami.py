"""The app of scripts/load_sessions.py and scripts/fault_drills.py: writes who this tab is.

One line, ``whoami email=<st.user's email> sub=<st.user's sub> id=<sa.user.id>``: the
identity Streamlit's ``st.user`` holds for the session and, under ``streamlit-auth run``,
the one our server's live-session registry holds (``sa.user.id`` = "<issuer>|<subject>").
Under plain ``streamlit run`` the package is not imported at all (the memory baseline stays
plain Streamlit) and the line says ``email=None sub=None id=None``.
"""

import sys

import streamlit as st

info = st.user.to_dict()
sa = sys.modules.get("stauth_server")
uid = (sa.user.id or None) if sa is not None else None
st.write(f"whoami email={info.get('email')} sub={info.get('sub')} id={uid}")
