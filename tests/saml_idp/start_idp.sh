#!/usr/bin/env bash
# The SAML 2.0 Identity Provider of the end-to-end tests: LemonLDAP::NG's portal (Debian 12
# packages; scripts/setup-test-env.sh installs them) served by Starman on 127.0.0.1.
#
# Usage: start_idp.sh [-p PORT] [-s SP_METADATA_XML] [-n email|persistent] [-l LOGLEVEL] [DIR]
#        start_idp.sh -k DIR      stop the IdP started from DIR (waits until it is gone)
#   DIR  everything goes there: signing key and certificate, rendered configuration, users.db,
#        sessions, idp.log, idp.pid, idp.env (default: a new temporary folder)
#   -p   port on 127.0.0.1 (default: DIR's previous port if free, else one the kernel picks)
#   -s   register this SP (its metadata XML: entity id, ACS, SLO, certificate). Only one SP:
#        a new one replaces the previous one. Works on a running IdP too: it loads the new
#        configuration, and the script returns once every worker will use it (1-2 s).
#        The IdP requires signed AuthnRequests and LogoutRequests when the SP's metadata says
#        AuthnRequestsSigned="true", and accepts unsigned ones otherwise.
#   -n   NameID format when the AuthnRequest asks for none: email (default) or persistent
#   -l   LemonLDAP log level: error, warn, notice (default), info, debug (every SAML step)
#
# Users (tests/saml_idp/users.sql; test accounts, plain-text passwords):
#   alice  password alice-saml-password  mail alice@example.org  cn "Alice Example"  groups admins, users
#   bob    password bob-saml-password    mail bob@example.org    cn "Bob Example"    groups users
# Released to the SP as attributes uid, mail, cn, groups (basic name format, one value per group).
#
# On success prints, and writes to DIR/idp.env:
#   IDP_DIR IDP_PID IDP_PORT IDP_URL IDP_ENTITY_ID IDP_METADATA_URL IDP_LOG
# IDP_PID is Starman's master, leader of its own session and process group: `kill -TERM
# -- -$IDP_PID` (or `start_idp.sh -k DIR`) stops it with its workers. Run again on the DIR of a
# running IdP, the script starts nothing: it registers the SP given with -s and prints the
# same variables. Run on a stopped DIR, it keeps the signing key (same IdP metadata).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME=start_idp.sh

fail() { echo "$NAME: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

port="" sp_metadata="" nameid=email loglevel=notice stop=0
while getopts "p:s:n:l:kh" option; do
  case $option in
    p) port=$OPTARG ;;
    s) sp_metadata=$OPTARG ;;
    n) nameid=$OPTARG ;;
    l) loglevel=$OPTARG ;;
    k) stop=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
dir=${1:-}

case $nameid in email | persistent) ;; *) fail "-n takes email or persistent, not '$nameid'" ;; esac
case $loglevel in error | warn | notice | info | debug) ;; *) fail "-l takes error, warn, notice, info or debug" ;; esac
[ -z "$port" ] || [[ $port =~ ^[0-9]+$ ]] || fail "-p takes a port number"
[ -z "$sp_metadata" ] || [ -s "$sp_metadata" ] || fail "no SP metadata file '$sp_metadata'"
[ -z "$sp_metadata" ] || grep -q 'SPSSODescriptor' "$sp_metadata" || fail "'$sp_metadata' has no SPSSODescriptor"

# A live process (a stopped Starman may stay a zombie until its parent reaps it).
is_alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
is_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running_pid() {  # prints the PID of DIR's IdP when it runs
  local pid
  pid=$(cat "$dir/idp.pid" 2>/dev/null) && [ -n "$pid" ] && is_alive "$pid" && echo "$pid"
}

stop_idp() {
  local pid
  if pid=$(running_pid); then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do is_alive "$pid" || break; sleep 0.1; done
    is_alive "$pid" && fail "the IdP (pid $pid) did not stop within 10 s"
  fi
  rm -f "$dir/idp.pid"
}

if [ "$stop" = 1 ]; then
  [ -n "$dir" ] && [ -d "$dir" ] || fail "-k needs the DIR of an IdP"
  stop_idp
  exit 0
fi

# What scripts/setup-test-env.sh installs (this script installs nothing).
for command in starman openssl curl perl; do
  command -v "$command" >/dev/null || fail "$command is missing: run scripts/setup-test-env.sh as root"
done
perl -MLasso -MLemonldap::NG::Portal::Main -MLemonldap::NG::Portal::Issuer::SAML \
  -MLemonldap::NG::Portal::Captcha::SecurityImage -MDBD::SQLite -MXML::Simple -e1 2>/dev/null \
  || fail "LemonLDAP::NG's SAML portal does not load (perl -MLemonldap::NG::Portal::Issuer::SAML -e1):" \
    "run scripts/setup-test-env.sh as root"

[ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/saml-idp.XXXXXX")
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
previous_port=$(sed -n 's/^IDP_PORT=//p' "$dir/idp.env" 2>/dev/null || true)

if pid=$(running_pid); then
  [ -z "$port" ] || [ "$port" = "$previous_port" ] \
    || fail "the IdP of $dir runs on port $previous_port (stop it first: $0 -k $dir)"
  port=$previous_port
else
  pid=""
  if [ -n "$port" ]; then
    is_listening "$port" && fail "port $port is in use"
  elif [ -n "$previous_port" ] && ! is_listening "$previous_port"; then
    port=$previous_port
  else
    port=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport')
  fi
fi
url="http://127.0.0.1:$port"

# The IdP's signing key and self-signed certificate: one per DIR, kept across restarts.
if [ ! -s "$dir/idp-signing.key" ] || [ ! -s "$dir/idp-signing.crt" ]; then
  (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 \
    -subj "/CN=streamlit-auth test SAML IdP" -keyout "$dir/idp-signing.key" -out "$dir/idp-signing.crt" \
    2>"$dir/openssl.log") || fail "openssl could not make the signing key (see $dir/openssl.log)"
fi
mkdir -p "$dir/conf" "$dir/cache" "$dir/sessions/lock" "$dir/psessions/lock"
if [ -n "$sp_metadata" ] && ! [ "$sp_metadata" -ef "$dir/sp-metadata.xml" ]; then
  cp "$sp_metadata" "$dir/sp-metadata.xml"
fi

new_config=$(IDP_DIR="$dir" IDP_URL="$url" IDP_NAMEID="$nameid" IDP_LOGLEVEL="$loglevel" \
  RENDER_USERS=$([ -n "$pid" ] && echo 0 || echo 1) perl "$HERE/render_config.pl") \
  || fail "could not render the configuration into $dir"
config_written_at=$(date +%s)

print_env() {
  cat <<EOF | tee "$dir/idp.env"
IDP_DIR=$dir
IDP_PID=$1
IDP_PORT=$port
IDP_URL=$url
IDP_ENTITY_ID=$url/saml/metadata
IDP_METADATA_URL=$url/saml/metadata/idp
IDP_LOG=$dir/idp.log
EOF
}

if [ -n "$pid" ]; then
  if [ -n "$new_config" ]; then
    # Each worker looks for a newer configuration at its first request once more than
    # checkTime (1 s, in whole seconds) has passed since its last look: from 2 s after the
    # write on, every request sees it.
    while [ "$(date +%s)" -lt $((config_written_at + 2)) ]; do sleep 0.1; done
  fi
  print_env "$pid"
  exit 0
fi

started_at=$(date +%s%N)
cd "$dir"
LLNG_DEFAULTCONFFILE="$dir/lemonldap-ng.ini" setsid starman --listen "127.0.0.1:$port" \
  --workers "${IDP_WORKERS:-2}" --preload-app "$HERE/portal.psgi" </dev/null >>"$dir/idp.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/idp.pid"
for _ in $(seq 300); do
  if ! is_alive "$pid"; then
    rm -f "$dir/idp.pid"
    tail -n 30 "$dir/idp.log" >&2
    fail "the IdP exited while starting (log: $dir/idp.log)"
  fi
  if curl -sf -o /dev/null --max-time 2 "$url/saml/metadata/idp"; then
    print_env "$pid"
    echo "$NAME: ready in $((($(date +%s%N) - started_at) / 1000000)) ms" >&2
    exit 0
  fi
  sleep 0.1
done
stop_idp
fail "the IdP did not answer on $url within 30 s (log: $dir/idp.log)"
