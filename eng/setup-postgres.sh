#!/usr/bin/env bash
# Idempotent PostgreSQL set-up for the multi-master tests (Debian, as root): installs postgresql when missing,
# starts the installed cluster when it is down, and creates the role and database the tests use
# (DCOS_TEST_POSTGRES defaults to postgres://dcos:dcos@127.0.0.1:5432/dcos; the role may create databases,
# so every test gets its own).
# Usage: eng/setup-postgres.sh
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if [ ! -d "/etc/postgresql/$version/main" ]; then
  $sudo pg_createcluster "$version" main >/dev/null
fi

if ! $sudo pg_ctlcluster "$version" main status >/dev/null 2>&1; then
  $sudo pg_ctlcluster "$version" main start
fi

for _ in $(seq 1 60); do
  if $sudo su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1; then break; fi
  sleep 0.5
done

psql_admin() { $sudo su postgres -c "psql -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname = 'dcos'")" != "1" ]; then
  psql_admin "CREATE ROLE dcos LOGIN PASSWORD 'dcos' CREATEDB"
fi
if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname = 'dcos'")" != "1" ]; then
  psql_admin "CREATE DATABASE dcos OWNER dcos"
fi
echo "postgresql $version ready: postgres://dcos:dcos@127.0.0.1:5432/dcos"
