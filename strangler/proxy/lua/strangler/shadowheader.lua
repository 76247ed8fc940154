-- The X-Strangler-Shadow header: how the client's request tells its mirror subrequest what to
-- do with the copy (strangler.route() sets it, strangler.shadow.mirror() reads it; the proxy
-- hides it from every backend). Four words: the shadow backend, the route, the request id and
-- the primary backend, which the mirror asks again for Diffy's "secondary" answer.
-- Pure (no ngx), so busted runs it as it is.

local M = {}

function M.encode(job)
    return table.concat({ job.shadow, job.route, job.id, job.primary }, " ")
end

-- The job the header describes, or nil when it is not four words.
function M.decode(value)
    if type(value) ~= "string" then
        return nil
    end
    local shadow, route, id, primary = value:match("^(%S+) (%S+) (%S+) (%S+)$")
    if not shadow then
        return nil
    end
    return { shadow = shadow, route = route, id = id, primary = primary }
end

return M
