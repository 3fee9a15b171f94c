"""Framework-neutral HTTP: Request/Response, routing and dispatch, CSRF, cookie rules, the
cookie outbox, redirects, login/error pages. Imports no server framework and no Streamlit."""
