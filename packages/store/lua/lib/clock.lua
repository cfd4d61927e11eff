-- Redis' own clock in milliseconds, shared by every script (included by the loader).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
