"""Local accounts beyond the password: new-password rules, TOTP, recovery codes, sealed secrets.

Framework-neutral building blocks; the users file (``core.sources.local``) stores what they produce.
"""
