-- Which backend and upstream group serve a request, once its route's target is known: canary
-- buckets, sticky keys and the canary cookie, fallback groups. Pure (no ngx), so busted runs
-- it as it is.

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

-- The cookie that keeps a client without a bearer subject on one side of a canary: the proxy
-- sets it on the first split answer (see M.cookie). Not the client's address: every client
-- behind one NAT or corporate proxy would land on the same side.
M.COOKIE = "strangler_canary"
M.COOKIE_MAX_AGE = 31536000 -- a year: a client stays on its side for the whole canary

-- The ids this proxy makes are 32 hex digits ($request_id); anything else is not ours.
local COOKIE_ID = "^%x+$"
local COOKIE_ID_LENGTH = 32

local function subject(authorization, decode_base64url)
    local payload = authorization and authorization:match("^[Bb]earer%s+[%w_-]+%.([%w_-]+)%.")
    local claims = payload and decode_base64url(payload)
    return claims
        and (claims:match('"sub"%s*:%s*"([^"]*)"') or claims:match('"sub"%s*:%s*(%d+)'))
end

-- The key a canary keeps a client on one side by: the bearer token's subject when the route
-- is sticky per user and the token has one, else the id in the client's canary cookie. nil
-- when neither is there: the caller then makes an id up (M.client_key) and sets the cookie.
-- The token's signature is not checked, nor is the cookie's id: a forged one only moves its
-- sender between canary buckets.
function M.sticky_key(sticky, authorization, cookie_id, decode_base64url)
    if sticky == "user" then
        local sub = subject(authorization, decode_base64url)
        if sub then
            return "u:" .. sub
        end
    end
    if cookie_id and #cookie_id == COOKIE_ID_LENGTH and cookie_id:match(COOKIE_ID) then
        return M.client_key(cookie_id)
    end
    return nil
end

function M.client_key(cookie_id)
    return "c:" .. cookie_id
end

-- The Set-Cookie value giving a client its canary id. HttpOnly: no script needs it;
-- SameSite=Lax: sent on top-level navigations from other sites, so a user arriving from a
-- link stays on its side; Secure only where the proxy itself speaks HTTPS.
function M.cookie(cookie_id, secure)
    return M.COOKIE .. "=" .. cookie_id .. "; Path=/; Max-Age=" .. M.COOKIE_MAX_AGE
        .. "; HttpOnly; SameSite=Lax" .. (secure and "; Secure" or "")
end

-- The answer's Set-Cookie headers with `cookie` added: ngx.header gives the backend's as nil,
-- a string or a table, and assigning one value would drop them.
function M.add_cookie(existing, cookie)
    if existing == nil then
        return cookie
    end
    local all = type(existing) == "table" and { unpack(existing) } or { existing }
    all[#all + 1] = cookie
    return all
end

-- Read your writes across a split: a client that just wrote reads from the split's primary
-- (the write owner) for a few seconds, while the canary's copy catches up with the write.
-- The proxy marks the writer with a cookie holding the instant until which this holds.
M.WROTE_COOKIE = "strangler_wrote"
M.WROTE_SECONDS = 5

function M.wrote_cookie(now, secure)
    local until_ = math.floor(now + M.WROTE_SECONDS)
    return M.WROTE_COOKIE .. "=" .. until_ .. "; Path=/; Max-Age=" .. M.WROTE_SECONDS
        .. "; HttpOnly; SameSite=Lax" .. (secure and "; Secure" or "")
end

-- Whether a client presenting `value` wrote in the last WROTE_SECONDS (a forged value only
-- sends its sender to the primary, as a write would).
function M.wrote_recently(value, now)
    local until_ = value and value:match("^%d+$") and tonumber(value)
    return until_ ~= nil and until_ >= now and until_ <= now + M.WROTE_SECONDS + 1
end

-- The 0..99 bucket of a sticky key. A numeric user id (the shop's subjects) is spread by a
-- stride coprime with 100: any 100 consecutive ids fill every bucket once, so a canary of
-- w% gets w% of the users who arrive one after the other, not w% give or take chance (40 new
-- users, 4 on a 10% canary). Any other key (a cookie id, a text subject) takes the hashed
-- bucket nginx computed (split_clients).
local STRIDE = 61

function M.bucket(key, hashed)
    local digits = key and key:match("^u:(%d+)$")
    if digits and #digits <= 15 then
        return (tonumber(digits) * STRIDE) % 100
    end
    return hashed
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
