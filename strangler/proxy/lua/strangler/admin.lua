-- The admin token that guards the internal listener's probe, step-table endpoint and shadow log.
-- Pure (no ngx), so busted runs it as it is.

local M = {}

-- The token as the file's first line holds it, or nil when that line has none: an empty token
-- must never match an empty or absent header.
function M.token_of(line)
    if type(line) ~= "string" then
        return nil
    end
    local token = line:match("^%s*(.-)%s*$")
    if token == "" then
        return nil
    end
    return token
end

-- Whether the X-Strangler-Token header `given` is the admin token `token` (nil: no token, so no
-- caller is let in). LuaJIT interns strings: `==` compares two references, whatever they hold.
function M.authorized(token, given)
    return type(token) == "string" and token ~= "" and type(given) == "string" and given == token
end

return M
