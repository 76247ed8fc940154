local json = require "strangler.json"
local steptable = require "strangler.steptable"

-- A two-route plan: products (catalog domain) may fall back to the monolith.
local structure = {
    backends = {
        monolith = { "127.0.0.1:8000" },
        catalog = { "127.0.0.1:8002", "127.0.0.1:8012" },
    },
    upstreams = {
        monolith = { "monolith" },
        catalog = { "catalog" },
        catalog__fallback__monolith = { "catalog", "monolith" },
    },
    route_domains = { products = "catalog", login = "auth" },
}

local function valid()
    return {
        hash = "0123456789abcdef",
        step = "3-catalog-canary",
        owners = { catalog = "monolith", auth = "monolith" },
        routes = {
            products = {
                backend = "monolith",
                split = { { "monolith", 90 }, { "catalog", 10 } },
                sticky = "user",
                fallback = "monolith",
            },
            login = { backend = "monolith", shadow = "catalog" },
        },
    }
end

local function refused(t)
    local text = type(t) == "string" and t or json.encode(t)
    local decoded, err = steptable.decode(text, structure)
    assert.is_nil(decoded)
    return err
end

describe("steptable.decode", function()
    it("accepts a table naming only what the structure has", function()
        local t = assert(steptable.decode(json.encode(valid()), structure))
        assert.are.equal("3-catalog-canary", t.step)
        assert.are.same({ "catalog", 10 }, t.routes.products.split[2])
        assert.are.equal("monolith", t.owners.catalog)
    end)

    it("defaults a split's stickiness to the user", function()
        local t = valid()
        t.routes.products.sticky = nil
        assert.are.equal("user", steptable.decode(json.encode(t), structure).routes.products.sticky)
    end)

    it("refuses what is not a JSON object with a hash and a step", function()
        assert.are.equal("empty step table", refused(""))
        assert.matches("^the step table is not JSON: ", refused("step 1-auth"))
        assert.are.equal("the step table is not a JSON object", refused('"text"'))
        local t = valid()
        t.hash = nil
        assert.are.equal("a step table needs a 'hash' and a 'step'", refused(t))
    end)

    it("refuses unknown keys", function()
        local t = valid()
        t.extra = true
        assert.are.equal("step table: unknown key extra", refused(t))
        t = valid()
        t.routes.login.weight = 1
        assert.are.equal("route login: unknown key weight", refused(t))
    end)

    it("refuses unknown backends wherever they are named", function()
        local t = valid()
        t.routes.login.backend = "orders"
        assert.are.equal("route login: unknown backend orders", refused(t))
        t = valid()
        t.routes.products.split[2][1] = "orders"
        assert.are.equal("route products: unknown backend in split: orders", refused(t))
        t = valid()
        t.routes.login.shadow = "orders"
        assert.are.equal("route login: unknown shadow backend orders", refused(t))
        t = valid()
        t.owners.auth = "orders"
        assert.are.equal("unknown backend for owner of auth: orders", refused(t))
    end)

    it("refuses bad weights", function()
        local t = valid()
        t.routes.products.split[2][2] = 10.5
        assert.are.equal("route products: bad weight for catalog: 10.5", refused(t))
        t.routes.products.split[2][2] = -10
        assert.are.equal("route products: bad weight for catalog: -10", refused(t))
        t.routes.products.split[2][2] = "10"
        assert.are.equal("route products: bad weight for catalog: 10", refused(t))
        t.routes.products.split[2][2] = 20
        assert.are.equal("route products: split weights sum to 110, not 100", refused(t))
        t.routes.products.split = {}
        assert.are.equal("route products: split must be a list of [backend, weight]", refused(t))
    end)

    it("refuses a fallback the structure has no upstream group for", function()
        local t = valid()
        t.routes.login.fallback = "catalog"
        assert.are.equal("route login: no fallback upstream monolith__fallback__catalog",
            refused(t))
    end)

    it("refuses a bad stickiness", function()
        local t = valid()
        t.routes.products.sticky = "session"
        assert.are.equal("route products: sticky must be user or client, not session", refused(t))
    end)

    it("refuses unknown routes and domains, and missing ones", function()
        local t = valid()
        t.routes.orders = { backend = "monolith" }
        assert.are.equal("unknown route orders", refused(t))
        t = valid()
        t.routes.login = nil
        assert.are.equal("no target for route login", refused(t))
        t = valid()
        t.owners.orders = "monolith"
        assert.are.equal("unknown domain orders", refused(t))
        t = valid()
        t.owners.auth = nil
        assert.are.equal("no owner for domain auth", refused(t))
    end)

    it("refuses JSON nulls where names belong", function()
        local t = '{"hash":"h","step":"s","owners":{"catalog":null,"auth":"monolith"},'
            .. '"routes":{}}'
        assert.are.equal("unknown backend for owner of catalog: null", refused(t))
    end)
end)
