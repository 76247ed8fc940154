#!/usr/bin/env bash
# Installs what `make proxy-lua-test` needs (Debian packages) when any is missing: luacheck,
# busted and the Lua 5.1 interpreter they run the specs on (nginx's LuaJIT is a Lua 5.1).
# Not Debian's luajit package: its libluajit conflicts with the libluajit2 that
# libnginx-mod-http-lua depends on, and apt would remove the nginx Lua module to install it.
set -euo pipefail

if command -v luacheck >/dev/null 2>&1 && command -v busted >/dev/null 2>&1 \
    && command -v lua5.1 >/dev/null 2>&1; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
packages=(lua-check lua-busted lua5.1 lua-cjson)
echo "installing ${packages[*]} (the Lua lint or test tools are missing)"
if ! $sudo apt-get install -y --no-install-recommends "${packages[@]}"; then
    # A fresh machine may have no package lists yet.
    $sudo apt-get update
    $sudo apt-get install -y --no-install-recommends "${packages[@]}"
fi
