-- JSON through lua-cjson, with the two things cjson leaves to its caller: a decode error is a
-- return value rather than a raised error, and a list that may be empty stays a list (cjson
-- encodes every empty table as an object).

local cjson = require "cjson"

local M = {}

function M.decode(text)
    local ok, value = pcall(cjson.decode, text)
    if not ok then
        return nil, tostring(value)
    end
    return value
end

M.encode = cjson.encode
M.null = cjson.null

-- A JSON array of the already encoded `items`.
function M.array(items)
    return "[" .. table.concat(items, ",") .. "]"
end

return M
