-- The step table, decoded from the JSON strangler/proxy/tables.py writes and checked against
-- the structure before any worker routes by it: a table naming a backend, route or upstream
-- group this config lacks is refused with a message saying which. Pure (no ngx), so busted
-- runs it as it is.
--
-- `structure` carries: backends {name = {instance addresses}}, upstreams {group name = members}
-- and route_domains {route name = domain}.

local json = require "strangler.json"

local M = {}

local TABLE_KEYS = { hash = true, step = true, owners = true, routes = true }
local ROUTE_KEYS = { backend = true, split = true, sticky = true, shadow = true, fallback = true }
local STICKY = { user = true, client = true }
local TOTAL_WEIGHT = 100

-- A value as the message shows it: cjson's null would print as "userdata: (nil)".
local function shown(value)
    return value == json.null and "null" or tostring(value)
end

local function unknown_key(keys, object, where)
    for key in pairs(object) do
        if not keys[key] then
            return where .. ": unknown key " .. shown(key)
        end
    end
end

local function check_split(split, backends, where)
    if type(split) ~= "table" or #split == 0 then
        return where .. ": split must be a list of [backend, weight]"
    end
    local total = 0
    for _, member in ipairs(split) do
        if type(member) ~= "table" or #member ~= 2 then
            return where .. ": split must be a list of [backend, weight]"
        end
        local backend, weight = member[1], member[2]
        if not backends[backend] then
            return where .. ": unknown backend in split: " .. shown(backend)
        end
        if type(weight) ~= "number" or weight % 1 ~= 0 or weight < 0 or weight > TOTAL_WEIGHT then
            return where .. ": bad weight for " .. backend .. ": " .. shown(weight)
        end
        total = total + weight
    end
    if total ~= TOTAL_WEIGHT then
        return where .. ": split weights sum to " .. total .. ", not " .. TOTAL_WEIGHT
    end
end

local function check_route(name, route, structure)
    local where = "route " .. shown(name)
    if type(route) ~= "table" then
        return where .. ": not an object"
    end
    local problem = unknown_key(ROUTE_KEYS, route, where)
    if problem then
        return problem
    end
    local backends = structure.backends
    if not backends[route.backend] then
        return where .. ": unknown backend " .. shown(route.backend)
    end
    if route.split ~= nil then
        problem = check_split(route.split, backends, where)
        if problem then
            return problem
        end
    end
    if route.sticky ~= nil and not STICKY[route.sticky] then
        return where .. ": sticky must be user or client, not " .. shown(route.sticky)
    end
    if route.shadow ~= nil and not backends[route.shadow] then
        return where .. ": unknown shadow backend " .. shown(route.shadow)
    end
    if route.fallback ~= nil then
        if not backends[route.fallback] then
            return where .. ": unknown fallback backend " .. shown(route.fallback)
        end
        for _, member in ipairs(route.split or { { route.backend } }) do
            local group = member[1] .. "__fallback__" .. route.fallback
            if member[1] ~= route.fallback and not structure.upstreams[group] then
                return where .. ": no fallback upstream " .. group
            end
        end
    end
end

local function check_owners(owners, structure)
    if type(owners) ~= "table" then
        return "owners must be an object"
    end
    local domains = {}
    for _, domain in pairs(structure.route_domains) do
        domains[domain] = true
        if owners[domain] == nil then
            return "no owner for domain " .. domain
        end
    end
    for domain, backend in pairs(owners) do
        if not domains[domain] then
            return "unknown domain " .. shown(domain)
        end
        if not structure.backends[backend] then
            return "unknown backend for owner of " .. domain .. ": " .. shown(backend)
        end
    end
end

local function check_routes(routes, structure)
    if type(routes) ~= "table" then
        return "routes must be an object"
    end
    for name in pairs(structure.route_domains) do
        if routes[name] == nil then
            return "no target for route " .. name
        end
    end
    for name, route in pairs(routes) do
        if not structure.route_domains[name] then
            return "unknown route " .. shown(name)
        end
        local problem = check_route(name, route, structure)
        if problem then
            return problem
        end
    end
end

-- The checked table, or nil and why it was refused.
function M.decode(text, structure)
    if type(text) ~= "string" or text == "" then
        return nil, "empty step table"
    end
    local t, err = json.decode(text)
    if t == nil then
        return nil, "the step table is not JSON: " .. err
    end
    if type(t) ~= "table" then
        return nil, "the step table is not a JSON object"
    end
    if type(t.hash) ~= "string" or type(t.step) ~= "string" then
        return nil, "a step table needs a 'hash' and a 'step'"
    end
    local problem = unknown_key(TABLE_KEYS, t, "step table")
        or check_owners(t.owners, structure)
        or check_routes(t.routes, structure)
    if problem then
        return nil, problem
    end
    for _, route in pairs(t.routes) do
        if route.split and not route.sticky then
            route.sticky = "user"
        end
        -- Derived, not sent: whether any read is split at this step (a writer is then kept on
        -- the primary for a moment, strangler.choice.wrote_cookie).
        t.splits = t.splits or route.split ~= nil
    end
    return t
end

return M
