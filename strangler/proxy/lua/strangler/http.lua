-- Answers the Lua runtime writes itself (probe, admin, shadow log): JSON, never cached.

local json = require "strangler.json"

local M = {}

-- `body` is encoded JSON.
function M.respond(status, body)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.say(body)
    return ngx.exit(status)
end

function M.detail(status, message)
    return M.respond(status, json.encode({ detail = message }))
end

return M
