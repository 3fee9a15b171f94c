#!/usr/bin/env bash
# Installs everything the test suite uses on a fresh Debian 12 machine (run as root):
# the package with its test extras, and Debian's Chromium for the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install -q -e '.[test]'
