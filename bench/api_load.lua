-- wrk script for bench/api.py: POST /graphql with one of the prepared bodies (one JSON per
-- line of args[1]) chosen at random per request, the bearer token from the environment, and
-- one line of JSON at the end. A response that is not 200 or carries GraphQL "errors" counts
-- as an error.
local bodies = {}
errors = 0  -- a global: done() reads it from each thread with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  math.randomseed(tonumber(args[2] or "1"))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("CHAINLENS_BENCH_TOKEN")
end

function request()
  return wrk.format(nil, "/graphql", nil, bodies[math.random(#bodies)])
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    failed, e.connect + e.read + e.write + e.timeout))
end
