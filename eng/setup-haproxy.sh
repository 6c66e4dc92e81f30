#!/usr/bin/env bash
# Idempotent HAProxy set-up for the discovery tests (Debian, as root): installs the haproxy package when the program is
# missing. No daemon is started: the tests start their own haproxy on a free loopback port with the generated config.
# Usage: eng/setup-haproxy.sh
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq haproxy >/dev/null
fi

# The package's own service is not needed (and would hold port 80 where a unit manager runs it).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet haproxy 2>/dev/null; then
  $sudo systemctl stop haproxy || true
fi

/usr/sbin/haproxy -v | head -n 1
