"""The Tornado adapter (Streamlit 1.56): the Server subclass, handlers and auth endpoints."""
