"""The framework-neutral core: what knows neither Tornado, Starlette nor Streamlit internals.

Session records and their stores live here today; the rest of the core moves here as the
modules are touched (see the architecture in the README).
"""
