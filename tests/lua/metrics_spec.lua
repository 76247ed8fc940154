local metrics = require "strangler.metrics"

local function request(fields)
    local r = { route = "products", backend = "catalog", code = "200", step = "3-canary",
        split = "catalog", seconds = 0.004 }
    for key, value in pairs(fields or {}) do
        r[key] = value
    end
    return r
end

-- The dict after `requests`, each { request, now }, as strangler.lua's incr calls leave it.
local function counted(requests)
    local values = {}
    for _, item in ipairs(requests) do
        for _, pair in ipairs(metrics.increments(item[1], item[2])) do
            values[pair[1]] = (values[pair[1]] or 0) + pair[2]
        end
    end
    return values
end

local function lines_of(text)
    local found = {}
    for line in text:gmatch("[^\n]+") do
        found[line] = true
    end
    return found
end

describe("metrics.bucket", function()
    it("is the first bucket whose upper bound holds the duration, +Inf beyond the last", function()
        assert.equals(1, metrics.bucket(0))
        assert.equals(1, metrics.bucket(0.005))
        assert.equals(2, metrics.bucket(0.0051))
        assert.equals(#metrics.BUCKETS + 1, metrics.bucket(31))
    end)

    it("steps by at most a third between 50 ms and 1 s, where a canary's p99 is judged", function()
        for index, bound in ipairs(metrics.BUCKETS) do
            if bound >= 0.05 and bound < 1 then
                assert.is_true(metrics.BUCKETS[index + 1] / bound <= 4 / 3 + 1e-9)
            end
        end
    end)
end)

describe("metrics.select", function()
    local values = counted({
        { request(), 600 }, -- minute 10
        { request(), 650 }, -- minute 10
        { request({ code = "503" }), 700 }, -- minute 11
        { request(), 1000 }, -- minute 16
    })

    it("without a window, takes the counts since the dict was made", function()
        local all = metrics.select(values, 1000)
        assert.equals(3, all["r|products|catalog|3-canary|catalog|200"])
        assert.equals(1, all["r|products|catalog|3-canary|catalog|503"])
    end)

    it("with a window of N minutes, sums the current minute and the N - 1 before it", function()
        local last = metrics.select(values, 1000, 6) -- minutes 11 to 16
        assert.equals(1, last["r|products|catalog|3-canary|catalog|200"])
        assert.equals(1, last["r|products|catalog|3-canary|catalog|503"])
        local one = metrics.select(values, 1000, 1)
        assert.is_nil(one["r|products|catalog|3-canary|catalog|503"])
    end)
end)

describe("metrics.render", function()
    local text = metrics.render(metrics.select(counted({
        { request({ seconds = 0.004 }), 0 },
        { request({ seconds = 0.07 }), 0 },
        { request({ seconds = 45, code = "504", backend = "monolith" }), 0 },
        { request({ route = "product", split = "", step = "4-catalog" }), 0 },
    }), 0))
    local lines = lines_of(text)

    it("counts requests by route, answering backend, status, step and split choice", function()
        assert.is_true(lines["# TYPE strangler_requests_total counter"])
        assert.is_true(lines['strangler_requests_total{route="products",backend="catalog",'
            .. 'code="200",step="3-canary",split="catalog"} 2'])
        assert.is_true(lines['strangler_requests_total{route="products",backend="monolith",'
            .. 'code="504",step="3-canary",split="catalog"} 1'])
        assert.is_true(lines['strangler_requests_total{route="product",backend="catalog",'
            .. 'code="200",step="4-catalog",split=""} 1'])
    end)

    it("writes cumulative buckets up to +Inf, the sum and the count of each series", function()
        local series = 'route="products",backend="catalog",step="3-canary",split="catalog"'
        assert.is_true(lines["# TYPE strangler_request_duration_seconds histogram"])
        assert.is_true(lines["strangler_request_duration_seconds_bucket{" .. series
            .. ',le="0.005"} 1'])
        assert.is_true(lines["strangler_request_duration_seconds_bucket{" .. series
            .. ',le="0.06"} 1'])
        assert.is_true(lines["strangler_request_duration_seconds_bucket{" .. series
            .. ',le="0.075"} 2'])
        assert.is_true(lines["strangler_request_duration_seconds_bucket{" .. series
            .. ',le="+Inf"} 2'])
        assert.is_true(lines["strangler_request_duration_seconds_sum{" .. series .. "} 0.074000"])
        assert.is_true(lines["strangler_request_duration_seconds_count{" .. series .. "} 2"])
        local slow = 'route="products",backend="monolith",step="3-canary",split="catalog"'
        assert.is_true(lines["strangler_request_duration_seconds_bucket{" .. slow
            .. ',le="30"} 0'])
        assert.is_true(lines["strangler_request_duration_seconds_bucket{" .. slow
            .. ',le="+Inf"} 1'])
    end)

    it("declares both families even before any request", function()
        assert.equals(table.concat({
            "# HELP strangler_requests_total Requests the proxy routed, by route, answering"
                .. " backend and status.",
            "# TYPE strangler_requests_total counter",
            "# HELP strangler_request_duration_seconds Seconds from the client's request to the"
                .. " proxy's last byte, by route and answering backend.",
            "# TYPE strangler_request_duration_seconds histogram",
        }, "\n") .. "\n", metrics.render({}))
    end)
end)
