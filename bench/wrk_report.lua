-- Prints wrk's totals and latency percentiles as one JSON line for bench/load.py, and the
-- first failed answer, if any (to say why).
local first_failure = nil

response = function(status, headers, body)
  if status >= 400 and first_failure == nil then
    first_failure = status .. " " .. string.sub(body or "", 1, 300)
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
  if first_failure then
    io.write("FIRST FAILURE " .. first_failure .. "\n")
  end
end
