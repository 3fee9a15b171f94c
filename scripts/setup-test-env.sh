#!/usr/bin/env bash
# Installs everything the test suite uses on a fresh Debian 12 machine (run as root):
# the package with its test extras, Debian's Chromium for the end-to-end tests, and Node's
# oidc-provider (a real OpenID Provider) from tests/op's lock file, Redis (shared sessions)
# OpenLDAP's slapd (LDAP sign-in), and xmlsec1 with LemonLDAP::NG (a real SAML IdP).
# Nothing is started here: the tests start what they use.
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
# SAML: xmlsec1 (pysaml2 checks XML signatures with it) and the real IdP of the end-to-end
# tests (tests/saml_idp): LemonLDAP::NG's portal with Lasso, served by Starman, plus modules
# its SAML issuer and captcha plugin load but only recommend. No recommends: no web server.
saml=(xmlsec1 liblemonldap-ng-portal-perl liblasso-perl libxml-simple-perl libgd-securityimage-perl
  libimage-magick-perl libio-string-perl libglib-perl starman libdbd-sqlite3-perl
  libcrypt-openssl-rsa-perl libcrypt-openssl-x509-perl openssl curl)
saml_installed=$(dpkg-query -W -f '${db:Status-Abbrev}\n' "${saml[@]}" 2>/dev/null | grep -c '^ii' || true)
if [ "$saml_installed" -ne ${#saml[@]} ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${saml[@]}" >/dev/null
fi
# The main interpreter runs the unit tests and Streamlit 1.56 (Tornado, and its Starlette server
# with server.useStarlette); pinned, since the package itself accepts 1.56 to 1.67.
python3 -m pip install -q -e '.[test]' 'streamlit==1.56.0'
(cd tests/op && npm ci --no-audit --no-fund --loglevel=error)
# Firebase: the JS SDK the login page loads (served locally by the tests) and the Auth
# Emulator (firebase-tools, offline on Node); skipped when the pinned versions are there.
if [ "$(node -p 'require("./tests/firebase/node_modules/firebase/package.json").version' 2>/dev/null)" != "12.19.0" ] \
   || [ ! -x tests/firebase/node_modules/.bin/firebase ]; then
  (cd tests/firebase && npm ci --no-audit --no-fund --loglevel=error)
fi

# A second virtualenv with Streamlit 1.67 (the Starlette server generation): the end-to-end
# and CLI suites run against both (tests/conftest.py, the "generation" fixture).
ST167=.venv-st167
if [ "$("$ST167/bin/python" -c 'import streamlit; print(streamlit.__version__)' 2>/dev/null)" != "1.67.0" ]; then
  rm -rf "$ST167"
  python3 -m venv "$ST167"
  "$ST167/bin/pip" install -q 'streamlit==1.67.0' requests oauthlib cryptography PyJWT argon2-cffi ldap3 redis
fi
"$ST167/bin/pip" install -q 'pysaml2>=7.5'   # SAML sign-in (tests/e2e/test_saml.py)
"$ST167/bin/pip" install -q -e .
