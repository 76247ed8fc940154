-- wrk script for the monolith benchmark.
-- Usage: wrk ... URL -- <path template> <ids file> <max responses per thread>
--   path template: a path with one %s (filled with an id drawn from the ids file), or "-" to
--                  request URL as given;
--   ids file:      one id per line ("-" for none);
--   max responses: each thread stops after this many responses and prints "BENCH_THREAD_DONE",
--                  so a run is bounded in requests as well as by wrk's --duration. wrk itself
--                  waits out --duration regardless, so the runner sends it SIGINT once every
--                  thread is done; wrk then reports the time that really elapsed.
--   pause:         optional, milliseconds each connection waits before its next request (a
--                  paced load below saturation); 0 or absent for none.
-- done() prints one line, "BENCH_RESULT <json>", that bench/wrk_runner.py parses.

local threads = {}

function setup(thread)
  thread:set("index", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path_template = args[1] ~= "-" and args[1] or nil
  ids = {}
  if args[2] and args[2] ~= "-" then
    for line in io.lines(args[2]) do
      if line ~= "" then
        ids[#ids + 1] = line
      end
    end
  end
  max_responses = tonumber(args[3]) or 0
  responses = 0
  local pause = tonumber(args[4]) or 0
  if pause > 0 then
    -- wrk looks for delay() after init(), so defining it here paces only the runs that ask:
    -- without it every request is sent at once, as before.
    function delay()
      return pause
    end
  end
  -- A fixed seed per thread keeps the sequence of ids the same from run to run.
  math.randomseed(1000 + index)
end

function request()
  if path_template and #ids > 0 then
    local path = string.format(path_template, ids[math.random(#ids)])
    return wrk.format("GET", path)
  end
  return wrk.request()
end

function response(status, headers, body)
  responses = responses + 1
  if max_responses > 0 and responses == max_responses then
    wrk.thread:stop()
    io.write("BENCH_THREAD_DONE\n")
    io.flush()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, ' ..
    '"p99": %d, "p999": %d, "mean": %.1f, "max": %d}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.mean,
    latency.max))
end
