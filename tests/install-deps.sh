#!/bin/sh
# Install what the tests need from Debian when it is missing. Needs root for
# apt-get; without root it only reports what is missing.
set -e
PY=/usr/bin/python3
need=""
command -v cc >/dev/null 2>&1 || need="$need gcc"
command -v make >/dev/null 2>&1 || need="$need make"
command -v redis-server >/dev/null 2>&1 || need="$need redis-server"
command -v redis-cli >/dev/null 2>&1 || need="$need redis-tools"
command -v redis-sentinel >/dev/null 2>&1 || need="$need redis-sentinel"   # tests/integration/test_sentinel.py
command -v strace >/dev/null 2>&1 || need="$need strace"   # the AOF always test traces write/fsync/reply order
command -v prometheus-redis-exporter >/dev/null 2>&1 || need="$need prometheus-redis-exporter"   # tests/integration/test_metrics_exporter.py
# scripting: Lua 5.1 with cjson and bitop, linked statically (see the Makefile)
[ -f /usr/include/lua5.1/lua.h ] || need="$need liblua5.1-0-dev"
[ -f /usr/include/lua5.1/lua-cjson.h ] || need="$need lua-cjson-dev"
[ -f /usr/include/lua5.1/lua-bitop.h ] || need="$need lua-bitop-dev"
[ -x $PY ] || need="$need python3"
if [ -x $PY ]; then
  $PY -c 'import pytest' 2>/dev/null || need="$need python3-pytest"
  $PY -c 'import redis' 2>/dev/null || need="$need python3-redis"
  $PY -c 'import hiredis' 2>/dev/null || need="$need python3-hiredis"
  $PY -c "import django_redis" 2>/dev/null || need="$need python3-django-redis"   # tests/integration/test_scripting.py
  $PY -c 'import setuptools' 2>/dev/null || need="$need python3-setuptools"
  $PY -c 'import wheel' 2>/dev/null || need="$need python3-wheel"
  $PY -c 'import venv, ensurepip' 2>/dev/null || need="$need python3-venv"
  $PY -m pip --version >/dev/null 2>&1 || need="$need python3-pip"
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing test dependencies:$need (run as root, or: sudo apt-get install$need)" >&2
  exit 1
fi
echo "installing test dependencies:$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $need >/dev/null
