import streamlit as st

import stauth_server as sa

st.session_state.setdefault("runs", 0)
st.session_state["runs"] += 1
st.write(f"user={sa.user.name} roles={','.join(sorted(sa.user.roles)) or '-'} runs={st.session_state['runs']}")
st.write(f"st-user-roles={','.join(st.user.get('roles') or []) or '-'}")


@sa.requires(roles=["admin"])
def secret() -> str:
    return "secret-shown"


st.write(secret() or "secret-skipped")
st.button("rerun")
st.write(f"via={st.user.get('via')}")
