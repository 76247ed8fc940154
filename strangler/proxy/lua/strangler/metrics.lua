-- The proxy's request metrics, in Prometheus' text format. Pure (no ngx), so busted runs it as
-- it is; strangler.lua keeps the numbers in the shared dict `strangler_metrics`.
--
--   strangler_requests_total{route, backend, code, step, split}
--   strangler_request_duration_seconds{route, backend, step, split}   (histogram)
--
-- `backend` answered the request (the fallback, when it did); `split` is the backend a canary
-- split chose for a read ("" when the route is not split at that step); `step` is the step
-- table that routed it. Two sets of numbers are kept: since the dict was made (what Prometheus
-- scrapes), and per minute for the last `window` minutes (what `strangle status` and the canary
-- analysis read with ?minutes=N: a count over a window needs no scraper keeping history).
--
-- Keys: "<kind>|<labels>", kind r (requests), b<i> (requests in bucket i of BUCKETS, the last
-- one +Inf), s (seconds summed); a minute's copy is prefixed "w<minute>|". Labels are the
-- plan's names (letters, digits, "-", "_", "."), a status and a step id: never a "|".

local M = {}

-- Fine where a canary's p99 ratio is judged (50 ms to 1 s: steps of 1.2 to 1.33 times), coarse
-- below and above.
M.BUCKETS = {
    0.005, 0.01, 0.025, 0.05, 0.06, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65,
    0.8, 1, 1.5, 2.5, 5, 10, 30,
}
local INF = #M.BUCKETS + 1

local REQUESTS = "strangler_requests_total"
local DURATION = "strangler_request_duration_seconds"

-- The bucket of a duration: the first whose upper bound holds it.
function M.bucket(seconds)
    for index, bound in ipairs(M.BUCKETS) do
        if seconds <= bound then
            return index
        end
    end
    return INF
end

-- The minute a time (seconds since the epoch) falls in.
function M.minute(now)
    return math.floor(now / 60)
end

-- The keys and increments one request adds: { {key, increment} }, the minute's copies included.
function M.increments(request, now)
    local series = request.route .. "|" .. request.backend .. "|" .. request.step .. "|"
        .. request.split
    local base = {
        { "r|" .. series .. "|" .. request.code, 1 },
        { "b" .. M.bucket(request.seconds) .. "|" .. series, 1 },
        { "s|" .. series, request.seconds },
    }
    local out = {}
    local window = "w" .. M.minute(now) .. "|"
    for _, pair in ipairs(base) do
        out[#out + 1] = pair
        out[#out + 1] = { window .. pair[1], pair[2] }
    end
    return out
end

-- The counters of `values` ({key = number}) since the dict was made, or, with `minutes`, summed
-- over the minutes of the last `minutes` (the current one included) at time `now`.
function M.select(values, now, minutes)
    local selected = {}
    local oldest = minutes and M.minute(now) - minutes + 1
    for key, value in pairs(values) do
        local minute, rest = key:match("^w(%d+)|(.*)$")
        local keep
        if minutes then
            keep = minute and tonumber(minute) >= oldest
        else
            keep, rest = minute == nil, key
        end
        if keep then
            selected[rest] = (selected[rest] or 0) + value
        end
    end
    return selected
end

local function split(text)
    local parts = {}
    for part in (text .. "|"):gmatch("([^|]*)|") do
        parts[#parts + 1] = part
    end
    return parts
end

local function escape(value)
    return (value:gsub("\\", "\\\\"):gsub("\n", "\\n"):gsub('"', '\\"'))
end

local function labels(names, values)
    local out = {}
    for index, name in ipairs(names) do
        out[index] = name .. '="' .. escape(values[index]) .. '"'
    end
    return "{" .. table.concat(out, ",") .. "}"
end

local function number(value)
    if value == math.floor(value) and math.abs(value) < 2 ^ 53 then
        return string.format("%d", value)
    end
    return string.format("%.6f", value)
end

local function sorted_keys(map)
    local keys = {}
    for key in pairs(map) do
        keys[#keys + 1] = key
    end
    table.sort(keys)
    return keys
end

local SERIES = { "route", "backend", "step", "split" }
local REQUEST_LABELS = { "route", "backend", "code", "step", "split" }

-- Prometheus' text format of counters `select` chose.
function M.render(selected)
    local requests, histograms = {}, {}
    for key, value in pairs(selected) do
        local kind, rest = key:match("^([^|]+)|(.*)$")
        if kind == "r" then
            local p = split(rest)
            requests[#requests + 1] =
                REQUESTS .. labels(REQUEST_LABELS, { p[1], p[2], p[5], p[3], p[4] }) .. " "
                .. number(value)
        elseif kind then
            local histogram = histograms[rest] or { buckets = {}, sum = 0 }
            histograms[rest] = histogram
            local index = tonumber(kind:match("^b(%d+)$"))
            if index then
                histogram.buckets[index] = value
            elseif kind == "s" then
                histogram.sum = value
            end
        end
    end
    table.sort(requests)
    local lines = {
        "# HELP " .. REQUESTS .. " Requests the proxy routed, by route, answering backend"
            .. " and status.",
        "# TYPE " .. REQUESTS .. " counter",
    }
    for _, line in ipairs(requests) do
        lines[#lines + 1] = line
    end
    lines[#lines + 1] = "# HELP " .. DURATION .. " Seconds from the client's request to the"
        .. " proxy's last byte, by route and answering backend."
    lines[#lines + 1] = "# TYPE " .. DURATION .. " histogram"
    for _, series in ipairs(sorted_keys(histograms)) do
        local histogram, values = histograms[series], split(series)
        local prefix = labels(SERIES, values):sub(1, -2) .. ',le="'
        local count = 0
        for index = 1, INF do
            count = count + (histogram.buckets[index] or 0)
            local bound = index == INF and "+Inf" or string.format("%g", M.BUCKETS[index])
            lines[#lines + 1] = DURATION .. "_bucket" .. prefix .. bound .. '"} ' .. number(count)
        end
        lines[#lines + 1] = DURATION .. "_sum" .. labels(SERIES, values) .. " "
            .. number(histogram.sum)
        lines[#lines + 1] = DURATION .. "_count" .. labels(SERIES, values) .. " " .. number(count)
    end
    return table.concat(lines, "\n") .. "\n"
end

return M
