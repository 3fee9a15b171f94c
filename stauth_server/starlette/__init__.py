"""Adapter for Streamlit's Starlette/uvicorn server generation (1.57+; run on 1.67.0)."""
