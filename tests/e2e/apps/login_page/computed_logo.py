"""An app whose logo path is computed (no literal st.logo): the login page learns it from
the first script run that shows it."""

from pathlib import Path

import streamlit as st

brand = "logo"
st.logo(str(Path(f"{brand}.png")))
st.write("computed-logo app ran")
