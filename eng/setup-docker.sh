#!/usr/bin/env bash
# Idempotent Docker set-up for the tests and the docker benchmark (Debian, as root):
# installs docker.io and busybox-static when missing, starts dockerd when no daemon answers,
# and builds the local test image dcos-test/busybox:1 from a busybox rootfs (no registry is needed).
# Usage: eng/setup-docker.sh            (log of a started dockerd: /var/log/dcos-dockerd.log)
set -euo pipefail

image="${DCOS_TEST_IMAGE:-dcos-test/busybox:1}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

if ! command -v dockerd >/dev/null 2>&1 || [ ! -x /bin/busybox ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker.io busybox-static >/dev/null
fi

if ! docker version >/dev/null 2>&1; then
  $sudo sh -c 'nohup dockerd >/var/log/dcos-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    if docker version >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  docker version >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dcos-dockerd.log" >&2; exit 1; }
fi

if ! docker image inspect "$image" >/dev/null 2>&1; then
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/www"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$rootfs/etc/passwd"
  echo 'root:x:0:' >"$rootfs/etc/group"
  echo 'nogroup:x:65534:' >>"$rootfs/etc/group"
  echo 'ok' >"$rootfs/www/index.html"
  chmod 1777 "$rootfs/tmp"
  tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/bin' - "$image" >/dev/null
fi
echo "docker ready: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), image $image"
