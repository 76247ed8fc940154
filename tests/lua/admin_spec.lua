local admin = require "strangler.admin"

describe("admin.token_of", function()
    it("takes the file's first line without its surrounding whitespace", function()
        assert.equals("s3cret", admin.token_of("s3cret"))
        assert.equals("s3cret", admin.token_of("  s3cret\r"))
    end)

    it("is nil for an empty or blank line and for a file with no line", function()
        assert.is_nil(admin.token_of(""))
        assert.is_nil(admin.token_of("  \r"))
        assert.is_nil(admin.token_of(nil))
    end)
end)

describe("admin.authorized", function()
    it("lets in the caller holding the token", function()
        assert.is_true(admin.authorized("s3cret", "s3cret"))
    end)

    it("refuses a wrong, absent or empty header", function()
        assert.is_false(admin.authorized("s3cret", "s3cre"))
        assert.is_false(admin.authorized("s3cret", nil))
        assert.is_false(admin.authorized("s3cret", ""))
    end)

    it("refuses everyone when there is no token, an empty header above all", function()
        assert.is_false(admin.authorized(nil, ""))
        assert.is_false(admin.authorized(nil, nil))
        assert.is_false(admin.authorized("", ""))
        assert.is_false(admin.authorized(admin.token_of(""), ""))
    end)
end)
