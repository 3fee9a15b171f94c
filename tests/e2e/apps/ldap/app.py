import streamlit as st

import stauth_server as sa

st.write(f"ldap-user={sa.user.name or 'anonymous'} email={sa.user.email} groups={','.join(sorted(sa.user.groups)) or '-'} "
         f"roles={','.join(sorted(sa.user.roles)) or '-'}")
