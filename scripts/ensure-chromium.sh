#!/usr/bin/env bash
# Playwright drives Debian's Chromium: its own browser download cannot work on these machines.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium not found at $CHROMIUM: installing Debian's chromium package..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  [ -x "$CHROMIUM" ] && exit 0
fi
echo "error: end-to-end tests need Chromium at $CHROMIUM." >&2
echo "Install it with 'sudo apt-get install -y chromium' (Debian/Ubuntu), or set CHROMIUM_PATH." >&2
exit 1
