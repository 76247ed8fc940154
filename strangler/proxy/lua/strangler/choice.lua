-- Which backend and upstream group serve a request, once its route's target is known: canary
-- buckets, sticky keys and fallback groups. Pure (no ngx), so busted runs it as it is.

local M = {}

local SAFE = { GET = true, HEAD = true, OPTIONS = true }

-- The backend whose share of the 0..99 buckets holds `bucket`; split is { {backend, weight} }.
function M.pick(split, bucket)
    local acc = 0
    for _, member in ipairs(split) do
        acc = acc + member[2]
        if bucket < acc then
            return member[1]
        end
    end
    return split[#split][1]
end

-- The key a canary keeps a client on one side by: the bearer token's subject when the route
-- is sticky per user and the token has one, else the client's address. The token's signature
-- is not checked: a forged subject only moves its sender between canary buckets.
function M.sticky_key(sticky, authorization, client, decode_base64url)
    if sticky == "user" and authorization then
        local payload = authorization:match("^[Bb]earer%s+[%w_-]+%.([%w_-]+)%.")
        local claims = payload and decode_base64url(payload)
        local sub = claims
            and (claims:match('"sub"%s*:%s*"([^"]*)"') or claims:match('"sub"%s*:%s*(%d+)'))
        if sub then
            return "u:" .. sub
        end
    end
    return "c:" .. client
end

-- The upstream group: the backend alone, or backend-then-fallback for safe methods (a retry
-- of anything else could apply a write twice).
function M.upstream(backend, fallback, method)
    if fallback and SAFE[method] and backend ~= fallback then
        return backend .. "__fallback__" .. fallback
    end
    return backend
end

return M
