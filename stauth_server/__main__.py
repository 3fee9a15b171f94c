"""``python -m stauth_server`` is the ``streamlit-auth`` command."""

from .cli import main

main(prog_name="streamlit-auth")
