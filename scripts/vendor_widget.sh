#!/usr/bin/env bash
# Vendor the web chat widget's only third-party asset (socket.io client) from the npm registry
# at build time, so the widget never loads anything from a CDN at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.8.1
SHA256=b0e735814f8dcfecd6cdb8a7ce95a297a7e1e5f2727a29e6f5901801d52fa0c5
OUT=models/webchat_vendor/socket.io.min.js
if [ -f "$OUT" ] && echo "$SHA256  $OUT" | sha256sum --check --status; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "error: npm is needed once to vendor socket.io-client@$VERSION for the web chat widget;" \
       "install Node.js (apt-get install nodejs npm) and run the command again" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "socket.io-client@$VERSION" --silent >/dev/null)
tar -xzf "$tmp/socket.io-client-$VERSION.tgz" -C "$tmp" package/dist/socket.io.min.js
if ! echo "$SHA256  $tmp/package/dist/socket.io.min.js" | sha256sum --check --status; then
  echo "error: socket.io-client@$VERSION from the npm registry does not match the pinned checksum" >&2
  exit 1
fi
mkdir -p "$(dirname "$OUT")"
cp "$tmp/package/dist/socket.io.min.js" "$OUT"
echo "vendored socket.io-client@$VERSION into $OUT"
