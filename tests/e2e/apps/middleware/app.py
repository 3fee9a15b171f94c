"""Pages behind the middlewares of ``api.py``: a localized page, a closed one, a broken one."""

import streamlit as st


def home() -> None:
    st.write("home-page")


def french() -> None:
    st.write("bonjour-page")


def vault() -> None:
    st.write("vault-page")


def broken() -> None:
    st.write("broken-page")


def old() -> None:
    st.write("old-page")


def inspect() -> None:
    st.write("inspect-page")


st.navigation([
    st.Page(home, title="Home", default=True),
    st.Page(french, title="Francais", url_path="fr"),
    st.Page(vault, title="Vault", url_path="vault"),
    st.Page(broken, title="Broken", url_path="broken"),
    st.Page(inspect, title="Inspect", url_path="inspect"),
    st.Page(old, title="Old", url_path="old"),
]).run()
