"""Every touch of Streamlit: internals (versions checked), the script API, identity pushed
into live sessions, session maintenance, app paths from Streamlit's config, --routes loading."""
