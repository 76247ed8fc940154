-- strangler: the proxy's runtime route choice (ngx_http_lua, LuaJIT).
--
-- The nginx structure (listeners, upstreams, one location per path pattern) is rendered from
-- the plan and fixed for the life of a config. Which backend serves each route is data: the
-- step table, kept in the shared dict `strangler_state` and read by every worker on every
-- request. `strangle apply` replaces that table through the internal listener's admin
-- location, so a flip closes no connection and loses no request (a reload makes old workers
-- close idle keep-alive connections, racing clients that are sending on them).
--
-- Step table text, one record per line (names are [a-z0-9_-], checked by the plan loader):
--   hash <table hash>
--   step <step id>
--   owner <domain> <backend>
--   route <name> <backend> [split=<b>:<w>,<b>:<w>] [sticky=user|client] [shadow=<b>] [fallback=<b>]

local M = {}

local state = ngx.shared.strangler_state
local shadow_log = ngx.shared.strangler_shadow
local b64 = require "ngx.base64"

local S -- the structure, fixed per config: see M.init
local cache = { version = nil, table = nil } -- per worker: the last decoded step table

local READ = { GET = true, HEAD = true }
local SAFE = { GET = true, HEAD = true, OPTIONS = true }

-- JSON ----------------------------------------------------------------------------------------

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function json_string(value)
    if value == nil then
        return "null"
    end
    value = tostring(value):gsub('[%c"\\]', function(c)
        return ESCAPES[c] or string.format("\\u%04x", c:byte())
    end)
    return '"' .. value .. '"'
end

local function json_object(pairs_list)
    -- pairs_list: { key1, encoded1, key2, encoded2, ... } keeps key order stable.
    local out = {}
    for i = 1, #pairs_list, 2 do
        out[#out + 1] = json_string(pairs_list[i]) .. ":" .. pairs_list[i + 1]
    end
    return "{" .. table.concat(out, ",") .. "}"
end

local function respond(status, body)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.say(body)
    return ngx.exit(status)
end

local function detail(status, message)
    return respond(status, json_object({ "detail", json_string(message) }))
end

-- Step tables ---------------------------------------------------------------------------------

local function parse_table(text)
    if type(text) ~= "string" or text == "" then
        return nil, "empty step table"
    end
    local t = { owners = {}, routes = {} }
    for line in text:gmatch("[^\n]+") do
        local words = {}
        for word in line:gmatch("%S+") do
            words[#words + 1] = word
        end
        local kind = words[1]
        if kind == "hash" then
            t.hash = words[2]
        elseif kind == "step" then
            t.step = words[2]
        elseif kind == "owner" then
            if not S.backends[words[3] or ""] then
                return nil, "unknown backend for owner: " .. line
            end
            t.owners[words[2]] = words[3]
        elseif kind == "route" then
            local name, backend = words[2], words[3]
            if not S.route_domains[name or ""] then
                return nil, "unknown route: " .. line
            end
            if not S.backends[backend or ""] then
                return nil, "unknown backend: " .. line
            end
            local route = { backend = backend, sticky = "user" }
            for i = 4, #words do
                local key, value = words[i]:match("^(%w+)=(.+)$")
                if key == "split" then
                    route.split = {}
                    for member, weight in value:gmatch("([^,:]+):(%d+)") do
                        if not S.backends[member] then
                            return nil, "unknown backend in split: " .. line
                        end
                        route.split[#route.split + 1] = { member, tonumber(weight) }
                    end
                elseif key == "sticky" or key == "shadow" or key == "fallback" then
                    route[key] = value
                else
                    return nil, "bad attribute in: " .. line
                end
            end
            for _, member in ipairs(route.split or { { backend } }) do
                local via = route.fallback and member[1] ~= route.fallback
                if via and not S.upstreams[member[1] .. "__fallback__" .. route.fallback] then
                    return nil, "no fallback upstream for: " .. line
                end
            end
            if route.shadow and not S.backends[route.shadow] then
                return nil, "unknown shadow backend: " .. line
            end
            t.routes[name] = route
        else
            return nil, "unknown record: " .. line
        end
    end
    if not t.hash or not t.step then
        return nil, "a step table needs 'hash' and 'step' records"
    end
    for _, domain in pairs(S.route_domains) do
        if not t.owners[domain] then
            return nil, "no owner for domain " .. domain
        end
    end
    for name in pairs(S.route_domains) do
        if not t.routes[name] then
            return nil, "no target for route " .. name
        end
    end
    return t
end

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
            local t = parse_table(text)
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
    local initial, err = parse_table(S.table)
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
        S.admin_token = token_file:read("*l")
        token_file:close()
    end
end

-- Request phases ------------------------------------------------------------------------------

local function sticky_key(sticky)
    if sticky == "user" then
        local auth = ngx.var.http_authorization
        local payload = auth and auth:match("^[Bb]earer%s+[%w_-]+%.([%w_-]+)%.")
        local claims = payload and b64.decode_base64url(payload)
        local sub = claims and (claims:match('"sub"%s*:%s*"([^"]*)"') or claims:match('"sub"%s*:%s*(%d+)'))
        if sub then
            return "u:" .. sub
        end
    end
    return "c:" .. ngx.var.remote_addr
end

local function pick(split, bucket)
    local acc = 0
    for _, member in ipairs(split) do
        acc = acc + member[2]
        if bucket < acc then
            return member[1]
        end
    end
    return split[#split][1]
end

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
        target = nil
        backend = t.owners[location.domains[name]]
    end
    local read = READ[method]
    if target and target.split and read then
        ngx.var.strangler_sticky = sticky_key(target.sticky)
        backend = pick(target.split, tonumber(ngx.var.strangler_bucket))
    end
    local upstream = backend
    if target and target.fallback and SAFE[method] and backend ~= target.fallback then
        upstream = backend .. "__fallback__" .. target.fallback
    end
    ngx.var.strangler_route = name
    ngx.var.strangler_step = t.step
    ngx.var.strangler_backend = backend
    ngx.var.strangler_upstream = upstream
    if location.mirrored then
        -- The mirror subrequest shares these request headers; proxy_set_header hides it
        -- from every backend. A client's own value is always overwritten or removed.
        if target and target.shadow and read then
            local id = ngx.var.strangler_request_id
            ngx.req.set_header("X-Strangler-Shadow", target.shadow .. " " .. name .. " " .. id)
            ngx.ctx.shadow = { backend = target.shadow, route = name, id = id, chunks = {}, size = 0 }
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

-- Which backend answered: the upstream group's primary, or its backup (the fallback).
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
    local primary_address, fallback_address = S.backends[primary], S.backends[fallback]
    if address == primary_address then
        return primary
    elseif address == fallback_address then
        return fallback
    end
    return tries > 1 and fallback or primary
end

function M.header_filter()
    if ngx.is_subrequest or ngx.var.strangler_generated == "1" or ngx.var.strangler_upstream == "" then
        return
    end
    local backend = answered_by()
    if backend then
        ngx.var.strangler_backend = backend
        if S.served_by then
            ngx.header["X-Served-By"] = backend
        end
    end
end

function M.body_filter()
    local shadow = ngx.ctx.shadow
    if not shadow then
        return
    end
    local chunk = ngx.arg[1]
    if chunk and chunk ~= "" and shadow.size < S.shadow_body_limit then
        local room = S.shadow_body_limit - shadow.size
        shadow.chunks[#shadow.chunks + 1] = chunk:sub(1, room)
        shadow.size = shadow.size + math.min(#chunk, room)
    end
end

-- Shadow log ----------------------------------------------------------------------------------
-- A bounded local log in the `strangler_shadow` dict (least recently used entries are evicted):
-- for each mirrored request, "p:<request id>" holds the primary's answer and "s:<request id>"
-- the shadow's. Comparing them is the job of a later tool; here they are only kept.

local function answer(route, backend, method, uri, status, body, truncated, extra)
    local fields = {
        "time", string.format("%.3f", ngx.now()),
        "route", json_string(route),
        "backend", json_string(backend),
        "method", json_string(method),
        "uri", json_string(uri),
        "status", tostring(status or "null"),
        "body", json_string(body),
        "truncated", truncated and "true" or "false",
    }
    if extra then
        fields[#fields + 1] = "error"
        fields[#fields + 1] = json_string(extra)
    end
    return json_object(fields)
end

function M.log()
    local shadow = ngx.ctx.shadow
    if not shadow then
        return
    end
    local body = table.concat(shadow.chunks)
    local entry = answer(shadow.route, ngx.var.strangler_backend, ngx.req.get_method(),
        ngx.var.request_uri, ngx.status, body, shadow.size >= S.shadow_body_limit)
    shadow_log:set("p:" .. shadow.id, entry)
end

local function forward(premature, job)
    if premature then
        state:incr("shadow_inflight", -1, 0)
        return
    end
    local sock = ngx.socket.tcp()
    sock:settimeouts(S.shadow_timeout_ms, S.shadow_timeout_ms, S.shadow_timeout_ms)
    local status, err
    local chunks, size = {}, 0
    local ok, connect_err = sock:connect(job.host, job.port)
    if not ok then
        err = "connect: " .. tostring(connect_err)
    else
        local sent, send_err = sock:send(job.request)
        if not sent then
            err = "send: " .. tostring(send_err)
        else
            local line, line_err = sock:receive("*l")
            status = line and tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
            if not status then
                err = "status line: " .. tostring(line_err or line)
            else
                repeat
                    line = sock:receive("*l")
                until not line or line == ""
                while size < S.shadow_body_limit do
                    local data, read_err, partial = sock:receive(8192)
                    local piece = data or partial
                    if piece and piece ~= "" then
                        chunks[#chunks + 1] = piece
                        size = size + #piece
                    end
                    if not data then
                        if read_err ~= "closed" then
                            err = "body: " .. tostring(read_err)
                        end
                        break
                    end
                end
            end
        end
    end
    sock:close()
    local body = table.concat(chunks):sub(1, S.shadow_body_limit)
    shadow_log:set("s:" .. job.id, answer(job.route, job.backend, job.method, job.uri, status,
        body, size >= S.shadow_body_limit, err))
    state:incr("shadow_inflight", -1, 0)
end

-- content of the mirror location: answer at once, forward to the shadow from a timer, so a
-- slow or dead shadow never delays the client's next request on its keep-alive connection.
function M.mirror()
    local header = ngx.var.http_x_strangler_shadow
    local backend, route, id = (header or ""):match("^(%S+) (%S+) (%S+)$")
    local address = backend and S.backends[backend]
    if not address then
        return ngx.exit(204)
    end
    local inflight = state:incr("shadow_inflight", 1, 0)
    if inflight > S.shadow_concurrency then
        state:incr("shadow_inflight", -1, 0)
        state:incr("shadow_dropped", 1, 0)
        return ngx.exit(204)
    end
    local host, port = address:match("^%[?([^%]]+)%]?:(%d+)$")
    local method = ngx.req.get_method()
    local uri = ngx.var.request_uri
    local lines = { method .. " " .. uri .. " HTTP/1.0" }
    for name, value in pairs(ngx.req.get_headers(64)) do
        local lower = name:lower()
        if lower ~= "x-strangler-shadow" and lower ~= "connection" and lower ~= "keep-alive" then
            if type(value) == "table" then
                value = table.concat(value, ", ")
            end
            lines[#lines + 1] = name .. ": " .. value
        end
    end
    lines[#lines + 1] = "X-Request-ID: " .. id
    lines[#lines + 1] = "Connection: close"
    local job = {
        host = host, port = tonumber(port), backend = backend, route = route, id = id,
        method = method, uri = uri, request = table.concat(lines, "\r\n") .. "\r\n\r\n",
    }
    local ok, err = ngx.timer.at(0, forward, job)
    if not ok then
        state:incr("shadow_inflight", -1, 0)
        state:incr("shadow_dropped", 1, 0)
        ngx.log(ngx.WARN, "strangler: shadow dropped: ", err)
    end
    return ngx.exit(204)
end

-- Internal listener: probe and admin ----------------------------------------------------------

function M.step_info()
    local t = current()
    return respond(200, json_object({
        "step", json_string(t.step),
        "table", json_string(t.hash),
        "structure", json_string(S.structure_hash),
        "rendered_step", json_string(S.initial.step),
        "worker", tostring(ngx.worker.pid()),
    }))
end

function M.admin_table()
    if ngx.req.get_method() ~= "POST" then
        return detail(405, "Use POST with a step table.")
    end
    if not S.admin_token or ngx.var.http_x_strangler_token ~= S.admin_token then
        return detail(403, "Missing or wrong X-Strangler-Token.")
    end
    ngx.req.read_body()
    local text = ngx.req.get_body_data()
    if not text then
        return detail(400, "Empty body, or a body too large to keep in memory.")
    end
    local t, err = parse_table(text)
    if not t then
        return detail(400, err)
    end
    local ok, install_err = install(text, t)
    if not ok then
        return detail(500, install_err)
    end
    ngx.log(ngx.NOTICE, "strangler: step ", t.step, " (table ", t.hash, ") is live")
    return respond(200, json_object({
        "step", json_string(t.step),
        "table", json_string(t.hash),
        "structure", json_string(S.structure_hash),
    }))
end

function M.shadow_entries()
    local limit = tonumber(ngx.var.arg_limit) or 100
    local keys = shadow_log:get_keys(0)
    local ids = {}
    for _, key in ipairs(keys) do
        local id = key:sub(3)
        ids[id] = true
    end
    local out = {}
    for id in pairs(ids) do
        if #out >= limit then
            break
        end
        out[#out + 1] = json_object({
            "request_id", json_string(id),
            "primary", shadow_log:get("p:" .. id) or "null",
            "shadow", shadow_log:get("s:" .. id) or "null",
        })
    end
    return respond(200, json_object({
        "count", tostring(#out),
        "inflight", tostring(state:get("shadow_inflight") or 0),
        "dropped", tostring(state:get("shadow_dropped") or 0),
        "entries", "[" .. table.concat(out, ",") .. "]",
    }))
end

strangler = M
