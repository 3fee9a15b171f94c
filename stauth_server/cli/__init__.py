"""The ``streamlit-auth`` command: ``run`` (run.py) and ``users`` (users.py)."""

from .run import main

__all__ = ["main"]
