#!/usr/bin/env bash
# Idempotent setup of a Nefos checkout, for `make setup` / `make demo` on a fresh Debian 12 machine.
#
#   scripts/setup.sh [system] [venv] [assets]     (no argument: all three, in that order)
#
# system  as root, apt-installs what is missing (Python venv support, Node.js, npm, and what
#         pip needs to build libvirt-python: libvirt-dev, pkg-config, gcc, python3-dev); `apt-get
#         update` runs only when something must be installed. Not root: says what to install
#         (and fails only when something is missing).
# venv    creates .venv (python3.11, else python3 >= 3.11) and pip-installs $NEFOS_REQUIREMENTS
#         (default requirements-dev.txt: the portal plus its test tools and the openstack CLI);
#         skipped while a stamp in .venv matches the hash of the requirements files.
# assets  installs the pinned front-end packages of package.json into node_modules (`npm ci`
#         from package-lock.json); skipped while a stamp in node_modules matches.
# The data dir (migrations, admin account) is prepared by scripts/demo.py, not here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

REQUIREMENTS=${NEFOS_REQUIREMENTS:-requirements-dev.txt}
VENV_STAMP=.venv/.nefos-requirements.sha256
ASSETS_STAMP=node_modules/.nefos-assets.sha256

log() { printf '[setup] %s\n' "$*" >&2; }
die() {
  printf '[setup] error: %s\n' "$*" >&2
  exit 1
}

# The interpreter for a new venv: python3.11 if present, else python3 if it is 3.11 or newer.
pick_python() {
  local candidate
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

venv_ok() { [ -x .venv/bin/python ] && .venv/bin/python -c '' 2>/dev/null; }

# libvirt-python is built from source by pip; once it imports in .venv, nothing more is needed.
libvirt_ok() { venv_ok && .venv/bin/python -c 'import libvirt' 2>/dev/null; }

# True when interpreter $1 has its C headers (Python.h), which building a C extension needs.
python_headers_ok() {
  "$1" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null
}

# Debian packages that are missing for the steps asked for (by capability, not by name, so a
# Python or Node.js installed some other way counts).
missing_packages() {
  local want_venv=$1 want_assets=$2 py
  local -a pkgs=()
  if [ "$want_venv" = 1 ] && ! venv_ok; then
    if py=$(pick_python); then
      "$py" -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
    else
      pkgs+=(python3 python3-venv)
    fi
  fi
  if [ "$want_venv" = 1 ] && ! libvirt_ok; then
    command -v pkg-config >/dev/null 2>&1 || pkgs+=(pkg-config)
    pkg-config --exists libvirt 2>/dev/null || pkgs+=(libvirt-dev)
    command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)
    if venv_ok; then py=.venv/bin/python; else py=$(pick_python) || py=""; fi
    if [ -n "$py" ] && ! python_headers_ok "$py"; then pkgs+=(python3-dev); fi
  fi
  if [ "$want_assets" = 1 ]; then
    command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)
  fi
  printf '%s\n' "${pkgs[@]}"
}

step_system() {
  local -a pkgs
  mapfile -t pkgs < <(missing_packages "$1" "$2" | sed '/^$/d')
  [ ${#pkgs[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing system packages: ${pkgs[*]} (as root on Debian: apt-get install ${pkgs[*]})"
  fi
  log "installing Debian packages: ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

requirements_hash() {
  # Every requirements file (they include each other) plus the interpreter's version.
  { cat requirements*.txt; .venv/bin/python -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1
}

step_venv() {
  if ! venv_ok; then
    local py
    py=$(pick_python) || die "Python 3.11 or newer is needed (python3.11 or python3)"
    log "creating .venv with $py"
    rm -rf .venv
    "$py" -m venv .venv
  fi
  local want
  want="$REQUIREMENTS $(requirements_hash)"
  if [ -f "$VENV_STAMP" ] && [ "$(cat "$VENV_STAMP")" = "$want" ]; then
    log ".venv is up to date"
    return 0
  fi
  log "installing $REQUIREMENTS into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --requirement "$REQUIREMENTS"
  printf '%s\n' "$want" >"$VENV_STAMP"
}

step_assets() {
  local want
  want=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ -f "$ASSETS_STAMP" ] && [ "$(cat "$ASSETS_STAMP")" = "$want" ]; then
    log "node_modules is up to date"
    return 0
  fi
  log "installing front-end assets into node_modules"
  if [ -f package-lock.json ]; then
    # `npm ci` installs exactly the lock file and never rewrites it.
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
  printf '%s\n' "$want" >"$ASSETS_STAMP"
}

main() {
  local do_system=0 do_venv=0 do_assets=0 arg
  [ $# -eq 0 ] && set -- system venv assets
  for arg in "$@"; do
    case $arg in
    system) do_system=1 ;;
    venv) do_venv=1 ;;
    assets) do_assets=1 ;;
    *) die "unknown step '$arg' (steps: system venv assets)" ;;
    esac
  done
  local started=$SECONDS
  if [ $do_system = 1 ]; then
    # Only what the other requested steps need; with no other step, what all of them need.
    if [ $do_venv = 0 ] && [ $do_assets = 0 ]; then step_system 1 1; else step_system $do_venv $do_assets; fi
  fi
  [ $do_venv = 1 ] && step_venv
  [ $do_assets = 1 ] && step_assets
  # STATICFILES_DIRS names static/; git keeps no empty directory.
  mkdir -p static
  log "done in $((SECONDS - started)) s"
}

main "$@"
