-- Cancels what is still queued of one request (DELETE /v1/refreshes/:id). Each queued path is
-- unlinked for this request only: a pending path, or the pending directory covering it, that
-- still serves another request (a link, or a path it covers) stays in the pool; one left serving
-- nobody leaves it. The path's status becomes `cancelled` (an end: the request's open count and
-- its callback as for any other). A path that already left the queue (in a batch in flight,
-- covered by a directory in flight, submitted, ended) is left as it is.
-- KEYS[1] request       the request's hash
-- KEYS[2] backlog
-- KEYS[3] callbacksDue
-- ARGV: pool type (work-kinds.ts), window ms, max files per call, max dirs per call, then pairs
--       of (path, pool domain)
-- Returns a flat list of (path, what happened): `cancelled`, `in_flight` (queued on the request
-- but already claimed for a call), or the path's state; {} when the request is unknown.
--@include keyspace
--@include lib/clock.lua
--@include lib/pool.lua
--@include lib/requests.lua
local request_key, backlog, callbacks_due = KEYS[1], KEYS[2], KEYS[3]
local meta_raw = redis.call('HGET', request_key, 'meta')
if not meta_raw then return {} end
local meta = cjson.decode(meta_raw)
local rid, otype = meta.id, ARGV[1]
local now = now_ms()
local window, max_files, max_dirs = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local reply = {}

-- Reads a pending path's meta (nil: not pending).
local function pending_meta(kind, path)
  local raw = redis.call('HGET', keyspace.pendingMeta(kind), path)
  return raw and cjson.decode(raw) or nil
end

-- A pending path nobody waits on any more (no linked request, no path it covers) leaves the pool.
-- `pmeta`: its meta as stored, when the caller holds it.
local function drop_if_unwanted(kind, path, touched, pmeta)
  pmeta = pmeta or pending_meta(kind, path)
  if not pmeta then return end
  if is_linked(kind, path, pmeta) then return end
  if kind == 'Directory' and redis.call('EXISTS', keyspace.covered(path)) == 1 then return end
  remove_pending(backlog, kind, path, pmeta)
  touched[kind .. '|' .. pmeta.lane] = true
end

-- Unlinks the request from the pending directory that covers `path` for it, if any; a directory
-- in flight keeps what it covers (they take its outcome).
local function uncover(path, domain, touched)
  local entry = rid .. '\t' .. path
  local inflight = keyspace.inflightDirs(domain)
  for _, dir in ipairs(redis.call('SMEMBERS', keyspace.dirs(domain))) do
    if covers(dir, path, otype) and redis.call('SISMEMBER', inflight, dir) == 0
      and redis.call('SREM', keyspace.covered(dir), entry) == 1 then
      drop_if_unwanted('Directory', dir, touched)
      return true
    end
  end
  return false
end

-- Paths that went in queued and whose status has not changed since have no field of their own.
local went_in_queued
local function queued_since_admission(path)
  if not went_in_queued then
    went_in_queued = {}
    local list = redis.call('HGET', request_key, 'queued')
    if list then
      for queued_path in string.gmatch(list, '[^\n]+') do went_in_queued[queued_path] = true end
    end
  end
  return went_in_queued[path] == true
end

for i = 5, #ARGV, 2 do
  local path, domain = ARGV[i], ARGV[i + 1]
  local status_raw = redis.call('HGET', request_key, 'p:' .. path)
  local state = status_raw and cjson.decode(status_raw).state
    or (queued_since_admission(path) and 'queued' or 'unknown')
  local outcome = state
  if state == 'queued' then
    local touched = touched_of(domain)
    local cancelled = false
    local pmeta = pending_meta(otype, path)
    if unlink(otype, path, pmeta, rid) then
      drop_if_unwanted(otype, path, touched, pmeta)
      cancelled = true
    else
      cancelled = uncover(path, domain, touched)
    end
    if cancelled then
      write_status(callbacks_due, rid, path, { state = 'cancelled', updatedAt = now }, now)
      outcome = 'cancelled'
    else
      outcome = 'in_flight'
    end
  end
  reply[#reply + 1] = path
  reply[#reply + 1] = outcome
end

refresh_pended(now, window, max_files, max_dirs)
return reply
