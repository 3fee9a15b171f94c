import stauth_server as sa  # noqa: F401 - the test needs a module that imports us, then fails

raise ImportError("no module named 'missing_dependency'")
