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
    it("keys a sticky-per-user route by the token's subject, string or number", function()
        local key = choice.sticky_key("user", bearer("string_sub"), "10.0.0.1", decode)
        assert.are.equal("u:42", key)
        key = choice.sticky_key("user", bearer("number_sub"), "10.0.0.1", decode)
        assert.are.equal("u:7", key)
    end)

    it("falls back to the client's address", function()
        assert.are.equal("c:10.0.0.1", choice.sticky_key("user", nil, "10.0.0.1", decode))
        assert.are.equal("c:10.0.0.1", choice.sticky_key("user", "Basic abc", "10.0.0.1", decode))
        local no_sub = bearer("no_sub")
        assert.are.equal("c:10.0.0.1", choice.sticky_key("user", no_sub, "10.0.0.1", decode))
        local token = bearer("string_sub")
        assert.are.equal("c:10.0.0.1", choice.sticky_key("client", token, "10.0.0.1", decode))
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
