#!/usr/bin/env bash
# Installs what building and testing zmqchan needs and Go does not bring:
# libzmq (with its headers and pkg-config file), pkg-config, and, with
# --test, python3-zmq (the other-language peer of the interop tests).
# On Debian and Ubuntu it uses apt-get (through sudo when not root); elsewhere
# it says what to install and fails.
set -euo pipefail

want_test=0
want_bench=0
for a in "$@"; do
  case "$a" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    *) echo "usage: $0 [--test] [--bench]" >&2; exit 2 ;;
  esac
done

pkgs=()
command -v pkg-config >/dev/null 2>&1 || pkgs+=(pkg-config)
if ! pkg-config --exists libzmq 2>/dev/null; then pkgs+=(libzmq3-dev); fi
# The interop tests look for a python3 that can import zmq as $PYTHON3, then
# python3 on PATH, then /usr/bin/python3 (a pyenv or venv python3 on PATH
# does not see Debian's python3-zmq); check the same places.
have_pyzmq() {
  for p in "${PYTHON3:-}" python3 /usr/bin/python3; do
    [ -n "$p" ] && command -v "$p" >/dev/null 2>&1 && "$p" -c 'import zmq' 2>/dev/null && return 0
  done
  return 1
}
if [ "$want_test" = 1 ] && ! have_pyzmq; then
  command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
  pkgs+=(python3-zmq)
fi
if [ "$want_bench" = 1 ] && ! pkg-config --exists libczmq 2>/dev/null; then pkgs+=(libczmq-dev); fi
command -v gcc >/dev/null 2>&1 || pkgs+=(gcc libc6-dev)

[ "${#pkgs[@]}" -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  echo "deps: installing ${pkgs[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  exit 0
fi

cat >&2 <<MSG
deps: missing: ${pkgs[*]}
This script installs them only with apt-get (Debian, Ubuntu). Elsewhere install
libzmq 4.x with its headers, pkg-config and a C compiler yourself, for example:
  macOS:   brew install zeromq pkg-config
  Fedora:  sudo dnf install zeromq-devel pkgconf-pkg-config gcc python3-zmq
  Alpine:  apk add zeromq-dev pkgconf build-base py3-pyzmq
then run the command again.
MSG
exit 1
