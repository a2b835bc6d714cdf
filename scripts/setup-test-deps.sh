#!/usr/bin/env bash
# Installs the Debian tools the tests and benchmarks use (oracles, a browser, redis-server for the queue tests).
# Safe to run again.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v evtxexport >/dev/null 2>&1 || need+=(libevtx-utils)
command -v evtx_dump.py >/dev/null 2>&1 || need+=(python3-evtx)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
command -v yara >/dev/null 2>&1 || need+=(yara)
# Runs exhunt-win-x64.exe (test/release.test.ts).
[ -x /usr/lib/wine/wine64 ] || command -v wine64 >/dev/null 2>&1 || need+=(wine64)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
