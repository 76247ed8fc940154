-- Shadow traffic: a copy of a mirrored read request goes to the shadow backend from a timer,
-- then, from the same timer once the shadow has answered, to the primary backend again (the
-- primary's second answer, Diffy's "secondary": where the primary's two answers to one request
-- differ is noise, which `strangle shadow-report` leaves out of the comparison). The answers
-- land in a bounded local log, the `strangler_shadow` dict (least recently used entries are
-- evicted): "p:<request id>" holds the primary's answer, "s:<request id>" the shadow's and
-- "2:<request id>" the primary's second one. Nothing of this runs in a client's request path.

local json = require "strangler.json"
local http = require "strangler.http"
local shadowheader = require "strangler.shadowheader"

local M = {}

local state = ngx.shared.strangler_state
local shadow_log = ngx.shared.strangler_shadow

local S -- backends, shadow_timeout_ms, shadow_body_limit, shadow_concurrency: see M.init

function M.init(structure)
    S = structure
end

local function answer(route, backend, method, uri, status, body, truncated, err)
    return json.encode({
        time = string.format("%.3f", ngx.now()),
        route = route,
        backend = backend,
        method = method,
        uri = uri,
        status = status or json.null,
        body = body,
        truncated = truncated,
        error = err,
    })
end

-- body filter of a mirrored location: keep the primary's answer, up to the limit.
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

local function receive(sock)
    local line, line_err = sock:receive("*l")
    local status = line and tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
    if not status then
        return nil, {}, 0, "status line: " .. tostring(line_err or line)
    end
    repeat
        line = sock:receive("*l")
    until not line or line == ""
    local chunks, size = {}, 0
    while size < S.shadow_body_limit do
        local data, read_err, partial = sock:receive(8192)
        local piece = data or partial
        if piece and piece ~= "" then
            chunks[#chunks + 1] = piece
            size = size + #piece
        end
        if not data then
            if read_err ~= "closed" then
                return status, chunks, size, "body: " .. tostring(read_err)
            end
            break
        end
    end
    return status, chunks, size
end

-- A connection to one of the target's instances: the first that accepts, in its order.
local function connect(target)
    local connect_err
    for _, server in ipairs(target.servers) do
        local sock = ngx.socket.tcp()
        sock:settimeouts(S.shadow_timeout_ms, S.shadow_timeout_ms, S.shadow_timeout_ms)
        local ok, err = sock:connect(server.host, server.port)
        if ok then
            return sock
        end
        connect_err = err
    end
    return nil, connect_err
end

-- One HTTP/1.0 exchange with `target` ({backend, servers}), logged under `key`.
local function call(job, key, target)
    local status, err
    local chunks, size = {}, 0
    local sock, connect_err = connect(target)
    if not sock then
        err = "connect: " .. tostring(connect_err)
    else
        local sent, send_err = sock:send(job.request)
        if not sent then
            err = "send: " .. tostring(send_err)
        else
            status, chunks, size, err = receive(sock)
        end
        sock:close()
    end
    local body = table.concat(chunks):sub(1, S.shadow_body_limit)
    shadow_log:set(key .. job.id, answer(job.route, target.backend, job.method, job.uri, status,
        body, size >= S.shadow_body_limit, err))
end

local function forward(premature, job)
    if not premature then
        call(job, "s:", job.shadow)
        -- After the shadow's answer, not beside it: a mirrored read costs the backends one
        -- extra connection at a time, and the primary is asked again later than the client's
        -- own request, so what changes with time (a timestamp) shows as noise.
        call(job, "2:", job.secondary)
    end
    state:incr("shadow_inflight", -1, 0)
end

-- The client's headers a shadow sees: what shapes a read's answer. Nothing about the body or the
-- connection (a GET's Content-Length would have the shadow wait for a body never sent), nor
-- anything else a client made up; the proxy's own headers are set below as proxy_set_header
-- sets them for the primary.
local FORWARDED = {
    ["accept"] = ", ",
    ["accept-encoding"] = ", ",
    ["accept-language"] = ", ",
    ["authorization"] = ", ",
    ["cookie"] = "; ",
    ["if-modified-since"] = ", ",
    ["if-none-match"] = ", ",
    ["user-agent"] = ", ",
}

local function request_text(method, uri, id)
    local lines = { method .. " " .. uri .. " HTTP/1.0" }
    -- get_headers() keys are lower case.
    for name, value in pairs(ngx.req.get_headers(64)) do
        local separator = FORWARDED[name]
        if separator then
            if type(value) == "table" then
                value = table.concat(value, separator)
            end
            lines[#lines + 1] = name .. ": " .. value
        end
    end
    local host = ngx.var.strangler_host
    lines[#lines + 1] = "Host: " .. host
    lines[#lines + 1] = "X-Forwarded-Host: " .. host
    -- $proxy_add_x_forwarded_for, which only the proxy module's requests have.
    local chain = ngx.var.http_x_forwarded_for
    local client = ngx.var.remote_addr or ""
    lines[#lines + 1] = "X-Forwarded-For: " .. (chain and chain .. ", " .. client or client)
    lines[#lines + 1] = "X-Forwarded-Proto: " .. ngx.var.scheme
    lines[#lines + 1] = "X-Request-ID: " .. id
    lines[#lines + 1] = "traceparent: " .. ngx.var.strangler_traceparent
    lines[#lines + 1] = "Connection: close"
    return table.concat(lines, "\r\n") .. "\r\n\r\n"
end

local turn = 0 -- per worker: which instance of a backend the next copy tries first

-- Where a copy goes: {backend, servers = {{host, port}, ...}}, its instances from the next one in
-- turn, or nil for a backend this config does not know.
local function target(backend)
    local addresses = backend and S.backends[backend]
    if not addresses then
        return nil
    end
    turn = turn + 1
    local servers = {}
    for offset = 0, #addresses - 1 do
        local address = addresses[(turn + offset) % #addresses + 1]
        local host, port = address:match("^%[?([^%]]+)%]?:(%d+)$")
        servers[#servers + 1] = { host = host, port = tonumber(port) }
    end
    return { backend = backend, servers = servers }
end

-- content of the mirror location: answer at once, forward to the shadow (and the primary again)
-- from a timer, so a slow or dead shadow never delays the client's next request on its
-- keep-alive connection.
function M.mirror()
    local shadow_job = shadowheader.decode(ngx.var.http_x_strangler_shadow)
    local shadow = shadow_job and target(shadow_job.shadow)
    local secondary = shadow_job and target(shadow_job.primary)
    if not shadow or not secondary then
        return ngx.exit(204)
    end
    local inflight = state:incr("shadow_inflight", 1, 0)
    if inflight > S.shadow_concurrency then
        state:incr("shadow_inflight", -1, 0)
        state:incr("shadow_dropped", 1, 0)
        return ngx.exit(204)
    end
    local method, uri, id = ngx.req.get_method(), ngx.var.request_uri, shadow_job.id
    local job = {
        shadow = shadow, secondary = secondary, route = shadow_job.route, id = id,
        method = method, uri = uri, request = request_text(method, uri, id),
    }
    local ok, err = ngx.timer.at(0, forward, job)
    if not ok then
        state:incr("shadow_inflight", -1, 0)
        state:incr("shadow_dropped", 1, 0)
        ngx.log(ngx.WARN, "strangler: shadow dropped: ", err)
    end
    return ngx.exit(204)
end

-- DELETE /__strangler/shadow on the internal listener. Copies in flight land afterwards.
function M.clear()
    shadow_log:flush_all()
    shadow_log:flush_expired()
    state:set("shadow_dropped", 0)
    return http.respond(200, '{"cleared":true}')
end

-- GET /__strangler/shadow?limit=N on the internal listener.
function M.entries()
    local limit = tonumber(ngx.var.arg_limit) or 100
    local ids = {}
    for _, key in ipairs(shadow_log:get_keys(0)) do
        ids[key:sub(3)] = true
    end
    local out = {}
    for id in pairs(ids) do
        if #out >= limit then
            break
        end
        out[#out + 1] = '{"request_id":' .. json.encode(id)
            .. ',"primary":' .. (shadow_log:get("p:" .. id) or "null")
            .. ',"shadow":' .. (shadow_log:get("s:" .. id) or "null")
            .. ',"secondary":' .. (shadow_log:get("2:" .. id) or "null") .. "}"
    end
    return http.respond(200, '{"count":' .. #out
        .. ',"inflight":' .. (state:get("shadow_inflight") or 0)
        .. ',"dropped":' .. (state:get("shadow_dropped") or 0)
        .. ',"entries":' .. json.array(out) .. "}")
end

return M
