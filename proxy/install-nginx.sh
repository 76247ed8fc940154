#!/usr/bin/env bash
# Installs nginx, its Lua module and lua-cjson (Debian packages) when any is missing; else does
# nothing. The project runs nginx from its own prefix under var/ (never /etc/nginx): only the
# binary, the dynamic modules and the JSON library of the Lua runtime come from the system.
set -euo pipefail

modules="${NGINX_MODULES_DIR:-/usr/lib/nginx/modules}"
installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
if command -v nginx >/dev/null 2>&1 \
    && [ -f "$modules/ngx_http_lua_module.so" ] && [ -f "$modules/ndk_http_module.so" ] \
    && installed lua-cjson; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
packages=(nginx libnginx-mod-http-lua lua-cjson)
echo "installing ${packages[*]} (nginx, its Lua module or lua-cjson is missing)"
if ! $sudo apt-get install -y --no-install-recommends "${packages[@]}"; then
    # A fresh machine may have no package lists yet.
    $sudo apt-get update
    $sudo apt-get install -y --no-install-recommends "${packages[@]}"
fi
