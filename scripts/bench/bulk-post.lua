-- wrk script: POST /v1/refreshes of 1,000 distinct paths each (a CMS bulk re-save, a migration);
-- paths never repeat across requests. Prints one RESULT line.
local n = 0
local parts = {}
request = function()
  n = n + 1
  for i = 1, 1000 do
    parts[i] = '"https://bench.example.com/bulk/' .. n .. '/' .. i .. '.png"'
  end
  return wrk.format("POST", "/v1/refreshes", {["content-type"]="application/json"}, '{"paths":[' .. table.concat(parts, ',') .. ']}')
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.3f %.3f %d %d %d\n", summary.requests/(summary.duration/1e6), latency:percentile(50)/1000, latency:percentile(99)/1000, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.requests))
end
