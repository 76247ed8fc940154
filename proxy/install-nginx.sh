#!/usr/bin/env bash
# Installs nginx and its Lua module (Debian packages) when either is missing; else does nothing.
# The project runs nginx from its own prefix under var/ (never /etc/nginx): only the binary and
# the dynamic modules are needed from the system.
set -euo pipefail

modules="${NGINX_MODULES_DIR:-/usr/lib/nginx/modules}"
if command -v nginx >/dev/null 2>&1 \
    && [ -f "$modules/ngx_http_lua_module.so" ] && [ -f "$modules/ndk_http_module.so" ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
packages=(nginx libnginx-mod-http-lua)
echo "installing ${packages[*]} (nginx or its Lua module is missing)"
if ! $sudo apt-get install -y --no-install-recommends "${packages[@]}"; then
    # A fresh machine may have no package lists yet.
    $sudo apt-get update
    $sudo apt-get install -y --no-install-recommends "${packages[@]}"
fi
