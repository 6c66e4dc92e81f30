#!/usr/bin/env bash
# Publishes self-contained single-file binaries of dcosd (daemon) and dcos (CLI) for a platform (default linux-x64):
#   packaging/publish.sh [RID] [OUT]      -> OUT/dcosd, OUT/dcos (+ dcosd's wwwroot for the web dashboard)
# The target machine needs no .NET runtime. Copy OUT to /opt/dcos and install packaging/systemd/*.service.
set -euo pipefail
cd "$(dirname "$0")/.."

rid="${1:-linux-x64}"
out="$(realpath -m "${2:-artifacts/$rid}")"
mkdir -p "$out"

common=(-c Release -r "$rid" --self-contained true -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -p:DebugType=none)
dotnet publish packaging/DatacenterOs.Host/DatacenterOs.Host.csproj "${common[@]}" -o "$out"
dotnet publish cli/DatacenterOs.Cli/DatacenterOs.Cli.csproj "${common[@]}" -o "$out"

"$out/dcosd" --help >/dev/null
"$out/dcos" --help >/dev/null
echo "published $rid to $out:"
ls -l "$out/dcosd" "$out/dcos"
