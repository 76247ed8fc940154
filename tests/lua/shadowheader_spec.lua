local shadowheader = require "strangler.shadowheader"

describe("shadowheader", function()
    local job = { shadow = "catalog", route = "products", id = "abc-1.2:3", primary = "monolith" }

    it("carries the shadow, the route, the request id and the primary in four words", function()
        local value = shadowheader.encode(job)
        assert.are.equal("catalog products abc-1.2:3 monolith", value)
        assert.are.same(job, shadowheader.decode(value))
    end)

    it("refuses anything but four words", function()
        assert.is_nil(shadowheader.decode("catalog products abc-1"))
        assert.is_nil(shadowheader.decode("catalog products abc-1 monolith extra"))
        assert.is_nil(shadowheader.decode("catalog  products abc-1 monolith"))
        assert.is_nil(shadowheader.decode(""))
        assert.is_nil(shadowheader.decode(nil))
    end)
end)
