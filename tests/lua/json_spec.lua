local json = require "strangler.json"

describe("json", function()
    it("returns a decode error instead of raising it", function()
        local value, err = json.decode("{")
        assert.is_nil(value)
        assert.is_string(err)
    end)

    it("keeps an empty list a list", function()
        assert.are.equal("[]", json.array({}))
        assert.are.equal('[{"a":1},null]', json.array({ json.encode({ a = 1 }), "null" }))
    end)

    it("round-trips the step table's shapes", function()
        local split = json.decode('[["monolith",90],["catalog",10]]')
        assert.are.same({ { "monolith", 90 }, { "catalog", 10 } }, split)
    end)
end)
