local choice = require "strangler.choice"

-- Stands in for nginx's ngx.base64.decode_base64url: a token's payload here is the name of
-- its claims.
local claims = {
    string_sub = '{"sub":"42","exp":1}',
    number_sub = '{"exp":1, "sub": 7}',
    no_sub = '{"exp":1}',
}

local function decode(payload)
    return claims[payload]
end

local function bearer(payload)
    return "Bearer header." .. payload .. ".signature"
end

describe("choice.pick", function()
    local split = { { "monolith", 90 }, { "catalog", 10 } }

    it("gives each backend its share of the hundred buckets", function()
        local counts = { monolith = 0, catalog = 0 }
        for bucket = 0, 99 do
            local backend = choice.pick(split, bucket)
            counts[backend] = counts[backend] + 1
        end
        assert.are.same({ monolith = 90, catalog = 10 }, counts)
    end)

    it("skips a backend weighted zero", function()
        assert.are.equal("catalog", choice.pick({ { "monolith", 0 }, { "catalog", 100 } }, 0))
    end)
end)

describe("choice.sticky_key", function()
    local id = "0123456789abcdef0123456789abcdef"

    it("keys a sticky-per-user route by the token's subject, string or number", function()
        local key = choice.sticky_key("user", bearer("string_sub"), id, decode)
        assert.are.equal("u:42", key)
        key = choice.sticky_key("user", bearer("number_sub"), nil, decode)
        assert.are.equal("u:7", key)
    end)

    it("keys a client without a bearer subject by its canary cookie", function()
        assert.are.equal("c:" .. id, choice.sticky_key("user", nil, id, decode))
        assert.are.equal("c:" .. id, choice.sticky_key("user", "Basic abc", id, decode))
        assert.are.equal("c:" .. id, choice.sticky_key("user", bearer("no_sub"), id, decode))
        assert.are.equal("c:" .. id, choice.sticky_key("client", bearer("string_sub"), id, decode))
    end)

    it("has no key without a subject or a cookie of ours, so the caller makes one up", function()
        assert.is_nil(choice.sticky_key("user", nil, nil, decode))
        assert.is_nil(choice.sticky_key("client", bearer("string_sub"), nil, decode))
        for _, forged in ipairs({ "", "short", id .. "0", "0123456789abcdef0123456789abcdeg",
            "0123456789abcdef0123456789abcd;x" }) do
            assert.is_nil(choice.sticky_key("user", nil, forged, decode), forged)
        end
    end)

    it("keys a made-up id the way the cookie carrying it will be keyed", function()
        assert.are.equal(choice.client_key(id), choice.sticky_key("user", nil, id, decode))
    end)
end)

describe("choice.cookie", function()
    it("is long-lived, HttpOnly, SameSite=Lax, site-wide and Secure over HTTPS only", function()
        local id = "0123456789abcdef0123456789abcdef"
        local attributes = "; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"
        assert.are.equal("strangler_canary=" .. id .. attributes, choice.cookie(id, false))
        assert.are.equal("strangler_canary=" .. id .. attributes .. "; Secure",
            choice.cookie(id, true))
    end)
end)

describe("choice.add_cookie", function()
    it("keeps the backend's own cookies, one or several", function()
        assert.are.equal("ours=1", choice.add_cookie(nil, "ours=1"))
        assert.are.same({ "csrftoken=x", "ours=1" }, choice.add_cookie("csrftoken=x", "ours=1"))
        local existing = { "a=1", "b=2" }
        assert.are.same({ "a=1", "b=2", "ours=1" }, choice.add_cookie(existing, "ours=1"))
        assert.are.same({ "a=1", "b=2" }, existing)
    end)
end)

describe("choice.upstream", function()
    it("sends safe methods through the fallback group and writes to the backend alone", function()
        assert.are.equal("catalog__fallback__monolith",
            choice.upstream("catalog", "monolith", "GET"))
        assert.are.equal("catalog__fallback__monolith",
            choice.upstream("catalog", "monolith", "OPTIONS"))
        assert.are.equal("catalog", choice.upstream("catalog", "monolith", "POST"))
        assert.are.equal("monolith", choice.upstream("monolith", "monolith", "GET"))
        assert.are.equal("catalog", choice.upstream("catalog", nil, "GET"))
    end)
end)

describe("choice.wrote_recently", function()
    it("holds for the seconds the cookie names, no longer", function()
        local cookie = choice.wrote_cookie(1000.4, false)
        local value = cookie:match("^strangler_wrote=(%d+);")
        assert.is_true(choice.wrote_recently(value, 1001))
        assert.is_true(choice.wrote_recently(value, 1005))
        assert.is_false(choice.wrote_recently(value, 1006))
    end)

    it("ignores a value no proxy sets: missing, not a number, or far in the future", function()
        assert.is_false(choice.wrote_recently(nil, 1000))
        assert.is_false(choice.wrote_recently("soon", 1000))
        assert.is_false(choice.wrote_recently("99999999999", 1000))
    end)

    it("marks the cookie Secure only behind HTTPS", function()
        assert.is_nil(choice.wrote_cookie(1000, false):find("Secure"))
        assert.is_truthy(choice.wrote_cookie(1000, true):find("; Secure$"))
    end)
end)

describe("choice.bucket", function()
    it("gives 100 consecutive user ids every bucket once", function()
        local seen = {}
        for id = 1000, 1099 do
            seen[choice.bucket("u:" .. id, 0)] = true
        end
        local count = 0
        for _ in pairs(seen) do
            count = count + 1
        end
        assert.are.equal(100, count)
    end)

    it("puts 4 or 5 of any 40 consecutive users on a 10% canary", function()
        local split = { { "monolith", 90 }, { "catalog", 10 } }
        for start = 1, 500 do
            local on_canary = 0
            for id = start, start + 39 do
                if choice.pick(split, choice.bucket("u:" .. id, 0)) == "catalog" then
                    on_canary = on_canary + 1
                end
            end
            assert.is_true(on_canary >= 3 and on_canary <= 5, "from id " .. start)
        end
    end)

    it("keeps nginx's hashed bucket for cookie ids and text subjects", function()
        assert.are.equal(37, choice.bucket("c:0123456789abcdef0123456789abcdef", 37))
        assert.are.equal(37, choice.bucket("u:alice", 37))
        assert.are.equal(37, choice.bucket("u:1234567890123456789", 37))
    end)
end)
