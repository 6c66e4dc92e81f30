#!/usr/bin/env bash
# Vendors the browser libraries the dashboard uses into wwwroot/lib with pinned versions (npm registry).
# The results are committed, so building needs only the .NET SDK; rerun this only to change a version.
set -euo pipefail
cd "$(dirname "$0")"

BOOTSTRAP=5.3.8
BOOTSTRAP_ICONS=1.13.1
SIGNALR=9.0.6
CHARTJS=4.5.0
VIZ=3.14.0

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
lib=wwwroot/lib
rm -rf "$lib"
mkdir -p "$lib"

fetch() { # package@version -> unpacked into $tmp/<dir>
  local spec="$1" dir="$2"
  (cd "$tmp" && npm pack --silent "$spec" > "$dir.name")
  mkdir -p "$tmp/$dir"
  tar -xzf "$tmp/$(cat "$tmp/$dir.name")" -C "$tmp/$dir"
}

fetch "bootstrap@$BOOTSTRAP" bootstrap
mkdir -p "$lib/bootstrap/css" "$lib/bootstrap/js"
cp "$tmp/bootstrap/package/dist/css/bootstrap.min.css" "$lib/bootstrap/css/"
cp "$tmp/bootstrap/package/dist/js/bootstrap.bundle.min.js" "$lib/bootstrap/js/"
cp "$tmp/bootstrap/package/LICENSE" "$lib/bootstrap/"

fetch "bootstrap-icons@$BOOTSTRAP_ICONS" icons
mkdir -p "$lib/bootstrap-icons/fonts"
cp "$tmp/icons/package/font/bootstrap-icons.min.css" "$lib/bootstrap-icons/"
cp "$tmp/icons/package/font/fonts/bootstrap-icons.woff2" "$tmp/icons/package/font/fonts/bootstrap-icons.woff" "$lib/bootstrap-icons/fonts/"
cp "$tmp/icons/package/LICENSE" "$lib/bootstrap-icons/"

fetch "@microsoft/signalr@$SIGNALR" signalr
mkdir -p "$lib/signalr"
cp "$tmp/signalr/package/dist/browser/signalr.min.js" "$lib/signalr/"

fetch "chart.js@$CHARTJS" chartjs
mkdir -p "$lib/chart.js"
cp "$tmp/chartjs/package/dist/chart.umd.min.js" "$lib/chart.js/" 2>/dev/null || cp "$tmp/chartjs/package/dist/chart.umd.js" "$lib/chart.js/chart.umd.min.js"
cp "$tmp/chartjs/package/LICENSE.md" "$lib/chart.js/"

fetch "@viz-js/viz@$VIZ" viz
mkdir -p "$lib/viz"
cp "$tmp/viz/package/lib/viz-standalone.js" "$lib/viz/"
cp "$tmp/viz/package/LICENSE" "$lib/viz/" 2>/dev/null || true

echo "vendored into $lib:"
find "$lib" -type f | sort
