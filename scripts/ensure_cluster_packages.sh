#!/usr/bin/env bash
# `make cluster` runs PostgreSQL, Redis and nginx from Debian packages as the project's own processes
# (data under var/cluster/); install whichever is missing, once.
set -euo pipefail
missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing ${missing[*]} for the cluster"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # no system-wide instances: the packages' own services are not started (policy-rc.d says no)
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "error: the cluster needs ${missing[*]}. Install them (sudo apt-get install ${missing[*]})" \
     "and run the command again" >&2
exit 1
