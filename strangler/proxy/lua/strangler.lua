-- strangler: the proxy's runtime route choice (ngx_http_lua, LuaJIT).
--
-- The nginx structure (listeners, upstreams, one location per path pattern) is rendered from
-- the plan and fixed for the life of a config. Which backend serves each route is data: the
-- step table (JSON, see strangler/steptable.lua), kept in the shared dict `strangler_state`
-- and read by every worker on every request. `strangle apply` replaces that table through the
-- internal listener's admin location, so a flip closes no connection and loses no request (a
-- reload makes old workers close idle keep-alive connections, racing clients that are sending
-- on them).

local b64 = require "ngx.base64"
local admin = require "strangler.admin"
local choice = require "strangler.choice"
local http = require "strangler.http"
local json = require "strangler.json"
local metrics = require "strangler.metrics"
local shadow = require "strangler.shadow"
local shadowheader = require "strangler.shadowheader"
local steptable = require "strangler.steptable"

local M = {
    body_filter = shadow.body_filter,
    mirror = shadow.mirror,
}

local state = ngx.shared.strangler_state
local counters = ngx.shared.strangler_metrics

local S -- the structure, fixed per config: see M.init
local cache = { version = nil, table = nil } -- per worker: the last decoded step table

local READ = { GET = true, HEAD = true }
local COOKIE_VAR = "cookie_" .. choice.COOKIE
local WROTE_VAR = "cookie_" .. choice.WROTE_COOKIE

-- Step tables in the shared dict -------------------------------------------------------------

local function table_key(version)
    return "tab:" .. S.structure_hash .. ":" .. version
end

local function install(text, t)
    local cur_key = "cur:" .. S.structure_hash
    local prev_key = "prev:" .. S.structure_hash
    local old = state:get(cur_key)
    local older = state:get(prev_key)
    local ok, err = state:safe_set(table_key(t.hash), text)
    if not ok then
        return nil, "cannot store the step table: " .. tostring(err)
    end
    state:set(cur_key, t.hash)
    if old and old ~= t.hash then
        state:set(prev_key, old)
    end
    -- Keep the current and the previous table: a worker may still be reading the previous one.
    if older and older ~= t.hash and older ~= old then
        state:delete(table_key(older))
    end
    return true
end

local function current()
    for _ = 1, 3 do
        local version = state:get("cur:" .. S.structure_hash)
        if version == nil then
            break
        end
        if version == cache.version then
            return cache.table
        end
        local text = state:get(table_key(version))
        if text then
            local t = steptable.decode(text, S)
            if t then
                cache.version, cache.table = version, t
                return t
            end
        end
    end
    -- The dict lost the table (it cannot: it is never evicted): serve the rendered step.
    return cache.table or S.initial
end

-- Structure -----------------------------------------------------------------------------------

function M.init(structure)
    S = structure
    S.route_domains = {}
    for _, location in ipairs(S.locations) do
        for _, route in pairs(location.methods) do
            S.route_domains[route] = location.domains[route]
        end
    end
    local initial, err = steptable.decode(S.table, S)
    if not initial then
        error("strangler: the rendered step table is invalid: " .. err)
    end
    S.initial = initial
    cache.version, cache.table = initial.hash, initial
    -- Runs at every (re)load of this config, so the file is the source of truth at load time.
    local ok, install_err = install(S.table, initial)
    if not ok then
        error("strangler: " .. install_err)
    end
    local token_file = io.open(ngx.config.prefix() .. "conf/admin.token", "r")
    if token_file then
        S.admin_token = admin.token_of(token_file:read("*l"))
        token_file:close()
    end
    shadow.init(S)
end

-- Request phases ------------------------------------------------------------------------------

-- rewrite phase of a route location: choose the route, the backend and the upstream group.
function M.route(location_id)
    local location = S.locations[location_id]
    local t = current()
    local method = ngx.req.get_method()
    local name = location.methods[method]
    local target, backend
    if name then
        target = t.routes[name]
        backend = target.backend
    else
        -- A method no route declares goes to the domain's write owner, which answers 405
        -- exactly as it would without the proxy.
        name = location.default
        backend = t.owners[location.domains[name]]
    end
    local read = READ[method]
    if t.splits and not read and method ~= "OPTIONS" then
        ngx.ctx.wrote_cookie = choice.wrote_cookie(ngx.now(), ngx.var.scheme == "https")
    end
    if target and target.split and read then
        local key = choice.sticky_key(target.sticky, ngx.var.http_authorization,
            ngx.var[COOKIE_VAR], b64.decode_base64url)
        if not key then
            -- nginx's own random request id, never the client's X-Request-ID.
            local id = ngx.var.request_id
            key = choice.client_key(id)
            ngx.ctx.canary_cookie = choice.cookie(id, ngx.var.scheme == "https")
        end
        ngx.var.strangler_sticky = key
        if not choice.wrote_recently(ngx.var[WROTE_VAR], ngx.now()) then
            backend = choice.pick(
                target.split, choice.bucket(key, tonumber(ngx.var.strangler_bucket))
            )
        end
        -- The access log's `split`: whom the split chose, even if the fallback answers.
        ngx.var.strangler_split = backend
    end
    ngx.var.strangler_route = name
    ngx.var.strangler_step = t.step
    ngx.var.strangler_backend = backend
    ngx.var.strangler_upstream = choice.upstream(backend, target and target.fallback, method)
    if location.mirrored then
        -- The mirror subrequest shares these request headers; proxy_set_header hides it
        -- from every backend. A client's own value is always overwritten or removed.
        if target and target.shadow and read then
            local id = ngx.var.strangler_request_id
            ngx.req.set_header("X-Strangler-Shadow", shadowheader.encode({
                shadow = target.shadow, route = name, id = id, primary = backend,
            }))
            ngx.ctx.shadow =
                { backend = target.shadow, route = name, id = id, chunks = {}, size = 0 }
        else
            ngx.req.clear_header("X-Strangler-Shadow")
        end
    end
end

local function last_address(addresses)
    if not addresses then
        return nil, 0
    end
    local last, count = nil, 0
    for address in addresses:gmatch("[^%s,:]+:%d+") do
        last, count = address, count + 1
    end
    return last, count
end

local function listed(addresses, address)
    for _, candidate in ipairs(addresses) do
        if candidate == address then
            return true
        end
    end
    return false
end

-- Which backend answered: the upstream group's primary (one of its instances), or its backup
-- (the fallback).
local function answered_by()
    local group = S.upstreams[ngx.var.strangler_upstream or ""]
    if not group then
        return nil
    end
    local primary, fallback = group[1], group[2]
    if not fallback then
        return primary
    end
    local address, tries = last_address(ngx.var.upstream_addr)
    if listed(S.backends[primary], address) then
        return primary
    elseif listed(S.backends[fallback], address) then
        return fallback
    end
    return tries > 1 and fallback or primary
end

-- The proxy's own 503 (a backend it cannot reach) says when to retry, as a backend's 503 does.
local RETRY_AFTER = "1"

function M.header_filter()
    local generated = ngx.var.strangler_generated == "1"
    if generated and ngx.status == ngx.HTTP_SERVICE_UNAVAILABLE then
        ngx.header["Retry-After"] = RETRY_AFTER
    end
    if ngx.is_subrequest or generated or ngx.var.strangler_upstream == "" then
        return
    end
    local cookies = { ngx.ctx.canary_cookie, ngx.ctx.wrote_cookie }
    for index = 1, 2 do
        if cookies[index] then
            ngx.header["Set-Cookie"] = choice.add_cookie(ngx.header["Set-Cookie"], cookies[index])
        end
    end
    local backend = answered_by()
    if backend then
        ngx.var.strangler_backend = backend
        if S.served_by then
            ngx.header["X-Served-By"] = backend
        end
    end
end

-- log phase of every request: the shadow log's primary answer, and the metrics of a routed
-- request (not the proxy's own answers to paths no route has).
function M.log()
    shadow.log()
    local route = ngx.var.strangler_route
    if route == "-" or route == nil or ngx.var.strangler_upstream == "" then
        return
    end
    local now = ngx.now()
    local increments = metrics.increments({
        route = route,
        backend = ngx.var.strangler_backend,
        code = ngx.var.status,
        step = ngx.var.strangler_step,
        split = ngx.var.strangler_split,
        seconds = tonumber(ngx.var.request_time) or 0,
    }, now)
    for _, pair in ipairs(increments) do
        local key = pair[1]
        -- A minute's copy lives as long as a window can reach back.
        local ttl = key:sub(1, 1) == "w" and S.metrics_window_minutes * 60 + 60 or 0
        local _, err = counters:incr(key, pair[2], 0, ttl)
        if err then
            ngx.log(ngx.WARN, "strangler: metric ", key, " not counted: ", err)
        end
    end
end

-- Internal listener: probe, admin and metrics --------------------------------------------------

local function live(t)
    return { step = t.step, table = t.hash, structure = S.structure_hash }
end

-- The probe, the admin endpoint and the shadow log (stored response bodies) answer only a
-- caller holding the admin token (var/nginx/conf/admin.token).
local function refused()
    if admin.authorized(S.admin_token, ngx.var.http_x_strangler_token) then
        return false
    end
    http.detail(403, "Missing or wrong X-Strangler-Token.")
    return true
end

function M.step_info()
    if refused() then
        return
    end
    local answer = live(current())
    answer.rendered_step = S.initial.step
    answer.worker = ngx.worker.pid()
    return http.respond(200, json.encode(answer))
end

-- POST /__strangler/table with the JSON of a step table and the admin token.
function M.admin_table()
    if ngx.req.get_method() ~= "POST" then
        return http.detail(405, "Use POST with a step table.")
    end
    if refused() then
        return
    end
    ngx.req.read_body()
    local text = ngx.req.get_body_data()
    if not text then
        return http.detail(400, "Empty body, or a body too large to keep in memory.")
    end
    local t, err = steptable.decode(text, S)
    if not t then
        return http.detail(400, err)
    end
    local ok, install_err = install(text, t)
    if not ok then
        return http.detail(500, install_err)
    end
    ngx.log(ngx.NOTICE, "strangler: step ", t.step, " (table ", t.hash, ") is live")
    return http.respond(200, json.encode(live(t)))
end

-- GET /__strangler/metrics: the counters since the dict was made (Prometheus scrapes these);
-- ?minutes=N: those of the last N minutes (at most the window the dict keeps). No token: the
-- internal listener is never public, and a scraper sends no X-Strangler-Token.
function M.metrics()
    local minutes = ngx.var.arg_minutes
    if minutes then
        minutes = tonumber(minutes)
        if not minutes or minutes < 1 or minutes > S.metrics_window_minutes
            or minutes ~= math.floor(minutes) then
            return http.detail(400, "minutes: a whole number from 1 to "
                .. S.metrics_window_minutes .. ".")
        end
    end
    local values = {}
    for _, key in ipairs(counters:get_keys(0)) do
        values[key] = counters:get(key)
    end
    ngx.status = 200
    ngx.header["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
    ngx.header["Cache-Control"] = "no-store"
    ngx.print(metrics.render(metrics.select(values, ngx.now(), minutes)))
    return ngx.exit(200)
end

-- GET: the shadow log; DELETE: empty it (a fixed shadow is then judged on new answers only).
function M.shadow_entries()
    if refused() then
        return
    end
    local method = ngx.req.get_method()
    if method == "DELETE" then
        return shadow.clear()
    elseif method ~= "GET" then
        return http.detail(405, "Use GET to read the shadow log, DELETE to empty it.")
    end
    return shadow.entries()
end

return M
