-- wrk script: single-path POST /v1/refreshes with a distinct path each time; prints one RESULT line.
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/v1/refreshes", {["content-type"]="application/json"}, '{"paths":["https://bench.example.com/a/' .. n .. '.png"]}')
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.3f %.3f %d %d %d\n", summary.requests/(summary.duration/1e6), latency:percentile(50)/1000, latency:percentile(99)/1000, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.requests))
end
