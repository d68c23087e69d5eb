#!/usr/bin/env bash
# Playwright cannot download its own browser here: the e2e suite drives Debian's Chromium.
# Installs it when it is missing (as root, or through sudo).
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then exit 0; fi
echo "▸ installing Debian's chromium for the end-to-end tests…"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "✖ $chromium is missing and this user cannot install packages: apt-get install chromium" >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
[ -x "$chromium" ] || { echo "✖ chromium was not installed at $chromium" >&2; exit 1; }
