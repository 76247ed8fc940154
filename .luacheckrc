-- luacheck for the proxy's Lua runtime and its busted specs (make proxy-lua-test).
std = "ngx_lua"
max_line_length = 100

-- The pure modules get plain LuaJIT: any use of ngx there is an error, which keeps them
-- testable without nginx.
local pure = { std = "luajit" }
files["strangler/proxy/lua/strangler/choice.lua"] = pure
files["strangler/proxy/lua/strangler/json.lua"] = pure
files["strangler/proxy/lua/strangler/metrics.lua"] = pure
files["strangler/proxy/lua/strangler/shadowheader.lua"] = pure
files["strangler/proxy/lua/strangler/steptable.lua"] = pure
files["tests/lua"] = { std = "luajit+busted" }
