"""Firebase Authentication as a sign-in source: the browser signs in with Firebase's
JavaScript SDK, the server verifies the Firebase ID token (``tokens``) with Google's
published keys (``keys``) and starts our own session. ``config`` reads ``[auth.NAME]``
tables with ``provider = "firebase"`` (imported by ``core.config``, so this package
imports nothing else eagerly)."""
