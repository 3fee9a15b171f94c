import stauth_server as sa

raise ImportError("no module named 'missing_dependency'")
