#!/usr/bin/env bash
# Installs everything the test suite uses on a fresh Debian 12 machine (run as root):
# the package with its test extras, Debian's Chromium for the end-to-end tests, and Node's
# oidc-provider (a real OpenID Provider) from tests/op's lock file, Redis (shared sessions)
# and OpenLDAP's slapd (LDAP sign-in). Nothing is started here: the tests start what they use.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapadd >/dev/null 2>&1 || missing+=(ldap-utils)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The main interpreter runs the unit tests and Streamlit 1.56 (Tornado, and its Starlette server
# with server.useStarlette); pinned, since the package itself accepts 1.56 to 1.67.
python3 -m pip install -q -e '.[test]' 'streamlit==1.56.0'
(cd tests/op && npm ci --no-audit --no-fund --loglevel=error)

# A second virtualenv with Streamlit 1.67 (the Starlette server generation): the end-to-end
# and CLI suites run against both (tests/conftest.py, the "generation" fixture).
ST167=.venv-st167
if [ "$("$ST167/bin/python" -c 'import streamlit; print(streamlit.__version__)' 2>/dev/null)" != "1.67.0" ]; then
  rm -rf "$ST167"
  python3 -m venv "$ST167"
  "$ST167/bin/pip" install -q 'streamlit==1.67.0' requests oauthlib cryptography PyJWT argon2-cffi ldap3 redis
fi
"$ST167/bin/pip" install -q -e .
