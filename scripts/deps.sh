#!/bin/sh
# Installs the Debian packages coinhound builds and tests with, where missing.
# Idempotent: does nothing when everything is already installed.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev clang-format
      libssl-dev liblmdb-dev lmdb-utils libjansson-dev libxml2-dev libyaml-dev
      libcurl4-openssl-dev libmicrohttpd-dev libcmocka-dev libyajl-dev libxxhash-dev
      curl"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
