#!/usr/bin/env bash
# Browser tests drive Debian's chromium through Playwright (with a CJK font, so screenshots of the
# Chinese UI are readable); install them once if they are missing.
set -euo pipefail
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
has_cjk_font() { command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; }
if [ -x "$CHROMIUM" ] && has_cjk_font; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing Debian chromium and a CJK font for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  exit 0
fi
if [ -x "$CHROMIUM" ]; then
  echo "warning: no Chinese font found; browser screenshots will show boxes (apt-get install fonts-wqy-microhei)" >&2
  exit 0
fi
echo "error: browser tests need Chromium at $CHROMIUM. Install it (sudo apt-get install chromium)" \
     "or point CHROMIUM_PATH at a Chromium binary, then run the command again" >&2
exit 1
