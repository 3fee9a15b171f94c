"""The framework-neutral core: what knows neither Tornado, Starlette nor Streamlit internals.

Config, durations, identity and roles, guard decisions, hooks, throttle, the session cookie
codec, session records and stores, the sign-in flows, ``oidc/`` and ``sources/``.
Importing it never imports Streamlit (tests/unit/test_layering.py).
"""
