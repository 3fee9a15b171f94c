"""OpenID Connect relying party: discovery, authorization request, code exchange, ID token
validation, userinfo, refresh and RP-initiated logout. Framework-neutral and synchronous:
the server layer runs these calls off its event loop."""
