-- Prints wrk's totals and latency percentiles as one JSON line for bench/load.py, and the
-- first failed answer, if any (to say why).
--
-- request() and response() run in each thread's own Lua state, done() in the main one: the
-- first failure is kept in a global of the thread's state and read back with thread:get().
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

first_failure = nil
answered = 0

response = function(status, headers, body)
  -- bench/load.py sets max_requests: one thread (-t 1) stops after that many answers.
  answered = answered + 1
  if answered >= max_requests then
    wrk.thread:stop()
  end
  if status >= 400 and first_failure == nil then
    first_failure = status .. " " .. string.gsub(string.sub(body or "", 1, 300), "%s+", " ")
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests": %d, "errors": %d, "status": %d, "seconds": %f, '
      .. '"p50": %f, "p95": %f, "p99": %f}\n',
    summary.requests, errors, summary.errors.status, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
  for _, thread in ipairs(threads) do
    local failure = thread:get("first_failure")
    if failure then
      io.write("FIRST FAILURE " .. failure .. "\n")
      break
    end
  end
end
