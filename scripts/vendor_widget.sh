#!/usr/bin/env bash
# Vendor the web chat's third-party browser code from the npm registry at build time (pinned
# versions, checked against pinned SHA-256 checksums), so nothing is loaded from a CDN at run time:
# - socket.io-client: the only dependency of our own widget (served at /webhooks/webchat/vendor/);
# - rasa-webchat: the stock npm widget a bank page may embed instead; the browser tests embed it
#   from a second origin (tests/browser/test_rasa_webchat.py). Integrators host their own copy;
# - echarts: the charts of the supervisors' dashboard in the agent console (served at
#   /agent/vendor/echarts.min.js; Apache-2.0, its licence header is kept in the file).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=models/webchat_vendor

# vendor PACKAGE VERSION FILE_IN_PACKAGE SHA256 OUT
vendor() {
  local package=$1 version=$2 file=$3 sha256=$4 out=$5
  if [ -f "$out" ] && echo "$sha256  $out" | sha256sum --check --status; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "error: npm is needed once to vendor $package@$version for the web chat;" \
         "install Node.js (apt-get install nodejs npm) and run the command again" >&2
    exit 1
  fi
  local tmp
  tmp=$(mktemp -d)
  # npm pack checks the tarball against the registry's integrity hash; ours pins the file itself.
  (cd "$tmp" && npm pack "$package@$version" --registry https://registry.npmjs.org/ --silent >/dev/null)
  tar -xzf "$tmp/$package-$version.tgz" -C "$tmp" "package/$file"
  if ! echo "$sha256  $tmp/package/$file" | sha256sum --check --status; then
    rm -rf "$tmp"
    echo "error: $package@$version from the npm registry does not match the pinned checksum" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$out")"
  cp "$tmp/package/$file" "$out"
  rm -rf "$tmp"
  echo "vendored $package@$version into $out"
}

vendor socket.io-client 4.8.1 dist/socket.io.min.js \
  b0e735814f8dcfecd6cdb8a7ce95a297a7e1e5f2727a29e6f5901801d52fa0c5 "$DIR/socket.io.min.js"
vendor rasa-webchat 1.0.1 lib/index.js \
  bfedd788e4bd7df12f64b5bf2963e634f84bac1cb176b6cede60c507d3553f1e "$DIR/rasa-webchat-1.0.1/index.js"
vendor echarts 5.6.0 dist/echarts.min.js \
  bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1 "$DIR/echarts-5.6.0/echarts.min.js"
