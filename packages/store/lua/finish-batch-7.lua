-- Ends a claimed batch in one step. Each path either gets its outcome recorded on every request
-- linked to it (for a directory, also on every path it covers), or goes back to the pending pool
-- after a delay with its updated meta, merged with any newer request for the same path (or
-- covered by a directory pending meanwhile). Paths the caller does not mention go back as
-- uncertain: the upstream may have accepted them. With only-if-expired, acts only on a batch
-- whose lease ran out (its holder died), putting all of it back.
-- A submitted path with a single task id is also put under tracking (task-tracker follows it to
-- its end): `{ns}:task:<id>` maps `requestId<TAB>path` to the covering directory ('' if none).
-- A promoted directory (files replaced by their directory, pmeta.promoted) that the upstream
-- refuses gives the paths it covered back to the pool as what they were asked for, instead of
-- passing its rejection on: nobody refused those files.
-- The batch's type is only known once it is read, so its pool keys are built, not given.
-- KEYS[1] batch          the batch id's
-- KEYS[2] inflight
-- KEYS[3] backlog
-- KEYS[4] tracking
-- KEYS[5] callbacksDue
-- KEYS[6] refreshedFiles        refreshed of File and the quota day of the call
-- KEYS[7] refreshedDirectories  refreshed of Directory and the quota day of the call
-- A submitted path, and everything a submitted directory covers, is added to its type's
-- refreshed set of the day (the scarcity policy's "already refreshed today"; docs/scarcity.md).
-- ARGV: batch id, window ms, max files per call, max dirs per call, only-if-expired,
--       JSON {path: {status = {...}} | {requeue = {delayMs, meta}}}, first poll delay ms,
--       quota day of the call (-1: unknown, nothing is marked refreshed)
-- Returns 1, or 0 when the batch is gone (already finished or reclaimed) or its lease still runs.
--@include keyspace
--@include lib/clock.lua
--@include lib/pool.lua
--@include lib/requests.lua
local batch_key, inflight_key, backlog, tracking_key, callbacks_due = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local refreshed_keys = { File = KEYS[6], Directory = KEYS[7] }
local now = now_ms()
local batch_id = ARGV[1]
local window, max_files, max_dirs, only_if_expired = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'

local raw = redis.call('GET', batch_key)
if not raw then return 0 end
if only_if_expired then
  local lease_end = redis.call('ZSCORE', inflight_key, batch_id)
  if lease_end and tonumber(lease_end) > now then return 0 end
end

local batch = cjson.decode(raw)
local outcomes = cjson.decode(ARGV[6])
local first_poll = tonumber(ARGV[7]) or 5000
local call_day = tonumber(ARGV[8]) or -1
local otype, domain = batch.objectType, batch.domain
local pmeta_key, inflight_dirs_key = keyspace.pendingMeta(otype), keyspace.inflightDirs(domain)
local touched = {}

-- A RefreshTaskId of several ids (the upstream's 2,000-task merging) cannot be split by path
-- up front: every id is followed, and each path takes the id the upstream lists it under.
local function track(status, request_ids, path, covered_by)
  if status.state ~= 'submitted' or type(status.taskId) ~= 'string' then return end
  for task_id in string.gmatch(status.taskId, '[^,%s]+') do
    local task_key = keyspace.task(task_id)
    for _, rid in ipairs(request_ids) do redis.call('HSET', task_key, rid .. '\t' .. path, covered_by) end
    redis.call('HSETNX', task_key, '_meta', cjson.encode({ objectType = otype, submittedAt = status.submittedAt, domain = domain }))
    redis.call('ZADD', tracking_key, 'NX', now + first_poll, task_id)
  end
end

local function mark_refreshed(kind, path)
  -- Only plain refreshes count: a prefetch or a forced refresh is another kind of work.
  if call_day < 0 or not refreshed_keys[kind] then return end
  redis.call('SADD', refreshed_keys[kind], path)
  redis.call('PEXPIRE', refreshed_keys[kind], 2 * 86400000)
end

local function record(request_ids, path, status)
  for _, rid in ipairs(request_ids) do write_status(callbacks_due, rid, path, status, now) end
  track(status, request_ids, path, status.coveredBy or '')
end

-- #12, refused promotion: every `requestId<TAB>path` the promoted directory covered is pending
-- again on its own, with its request's type and lane (or covered by another directory pending or
-- in flight above it), and its status is queued again. Runs once the directory has left the
-- in-flight set, so it covers nothing any more. Directories go first, outermost first, so what
-- lies under one is covered by it whatever order the set holds them in.
local function give_back_covered(dir)
  local covered_key = keyspace.covered(dir)
  local entries = {}
  for _, entry in ipairs(redis.call('SMEMBERS', covered_key)) do
    local sep = string.find(entry, '\t', 1, true)
    local rid, path = string.sub(entry, 1, sep - 1), string.sub(entry, sep + 1)
    local meta_raw = redis.call('HGET', keyspace.request(rid), 'meta')
    if meta_raw then entries[#entries + 1] = { rid = rid, path = path, request = cjson.decode(meta_raw) } end
  end
  table.sort(entries, function(a, b)
    local a_dir, b_dir = a.request.objectType == 'Directory', b.request.objectType == 'Directory'
    if a_dir ~= b_dir then return a_dir end
    if #a.path ~= #b.path then return #a.path < #b.path end
    if a.path ~= b.path then return a.path < b.path end
    return a.rid < b.rid
  end)
  for _, given in ipairs(entries) do
    local rid, path, request = given.rid, given.path, given.request
    local kind, lane = request.objectType, request.priority
    local status = { state = 'queued', updatedAt = now }
    local above = covering_dir(domain, path, kind)
    if above then
      cover(above, { rid }, path)
      status.coveredBy = above
    else
      local kind_meta_key = keyspace.pendingMeta(kind)
      local existing_raw = redis.call('HGET', kind_meta_key, path)
      if existing_raw then
        -- Pending already (asked again meanwhile): the request joins it and may lift its lane.
        local existing = cjson.decode(existing_raw)
        if higher_lane(lane, existing.lane) ~= existing.lane then
          local score = redis.call('ZSCORE', keyspace.pending(kind, existing.lane, domain), path)
          remove_pending(backlog, kind, path, existing)
          touched[kind .. '|' .. existing.lane] = true
          existing.lane = lane
          add_pending(backlog, kind, path, tonumber(score), existing)
        end
        lane = existing.lane
      else
        local eligible_at = now
        if redis.call('SISMEMBER', keyspace.inflightPaths(kind), path) == 1 then eligible_at = PARKED end
        local meta = { domain = domain, lane = lane, queuedAt = request.receivedAt, attempts = 0 }
        add_pending(backlog, kind, path, eligible_at, meta)
        if kind == 'Directory' then
          local top, absorbed = absorb_under(backlog, domain, path)
          for pair in pairs(absorbed) do touched[pair] = true end
          if top and higher_lane(top, lane) ~= lane then
            remove_pending(backlog, kind, path, meta)
            touched[kind .. '|' .. lane] = true
            meta.lane = top
            lane = top
            add_pending(backlog, kind, path, eligible_at, meta)
          end
        end
      end
      link(kind, path, nil, { rid })
      touched[kind .. '|' .. lane] = true
    end
    redis.call('HSET', keyspace.request(rid), 'p:' .. path, cjson.encode(status))
  end
  redis.call('DEL', covered_key)
end

for _, item in ipairs(batch.items) do
  local outcome = outcomes[item.path]
  if outcome and outcome.status then outcome.status.updatedAt = now end
  local request_ids = item.requestIds
  if type(request_ids) ~= 'table' then request_ids = {} end
  if otype == 'Directory' then redis.call('SREM', inflight_dirs_key, item.path) end
  redis.call('SREM', keyspace.inflightPaths(otype), item.path)
  -- A copy requested while this one was in flight was parked. Its requests received before this
  -- call started are satisfied by the call's success; any later ones make it go, as a fresh request.
  local parked_raw = redis.call('HGET', pmeta_key, item.path)
  if parked_raw then
    local parked = cjson.decode(parked_raw)
    local parked_key = keyspace.pending(otype, parked.lane, domain)
    if tonumber(redis.call('ZSCORE', parked_key, item.path)) == PARKED then
      local called_at = outcome and outcome.status and outcome.status.state == 'submitted' and tonumber(outcome.status.submittedAt)
      if called_at then
        for _, rid in ipairs(linked_requests(otype, item.path, parked)) do
          local meta_raw = redis.call('HGET', keyspace.request(rid), 'meta')
          local received_at = meta_raw and tonumber(cjson.decode(meta_raw).receivedAt)
          if received_at and received_at <= called_at then
            record({ rid }, item.path, outcome.status)
            unlink(otype, item.path, parked, rid)
          end
        end
      end
      if called_at and not is_linked(otype, item.path, parked) then
        remove_pending(backlog, otype, item.path, parked)
      else
        redis.call('ZADD', parked_key, now + window, item.path)
      end
      touched[otype .. '|' .. parked.lane] = true
    end
  end
  if outcome and outcome.status then
    local status = outcome.status
    local submitted = status.state == 'submitted'
    record(request_ids, item.path, status)
    if submitted then mark_refreshed(otype, item.path) end
    if otype == 'Directory' and status.state == 'rejected' and item.meta and item.meta.promoted then
      give_back_covered(item.path)
    elseif otype == 'Directory' then
      -- Everything covered so far, while pending and while in flight, gets this outcome; a
      -- pending copy of the same directory covers only what arrives from now on.
      local covered_key = keyspace.covered(item.path)
      for _, entry in ipairs(redis.call('SMEMBERS', covered_key)) do
        local sep = string.find(entry, '\t', 1, true)
        local covered_path = string.sub(entry, sep + 1)
        status.coveredBy = item.path
        if item.meta.promoted then status.coverReason = item.meta.promotedReason or 'promoted' end
        record({ string.sub(entry, 1, sep - 1) }, covered_path, status)
        if submitted then
          mark_refreshed(string.sub(covered_path, -1) == '/' and 'Directory' or 'File', covered_path)
        end
      end
      redis.call('DEL', covered_key)
    end
  else
    local delay, meta = 0, item.meta
    if outcome and outcome.requeue then
      delay = tonumber(outcome.requeue.delayMs) or 0
      meta = outcome.requeue.meta or meta
    else
      meta.uncertainSince = meta.uncertainSince or batch.claimedAt
      -- #12: the batch's calls were made by now (its holder is dead or done): the look-up window ends here.
      meta.uncertainUntil = math.max(tonumber(meta.uncertainUntil) or 0, now)
    end
    local dir = covering_dir(domain, item.path, otype)
    if dir then
      cover(dir, request_ids, item.path)
      local own_covered = keyspace.covered(item.path)
      if otype == 'Directory' and redis.call('SISMEMBER', keyspace.dirs(domain), item.path) == 0 then
        local parent_covered = keyspace.covered(dir)
        redis.call('SUNIONSTORE', parent_covered, parent_covered, own_covered)
        redis.call('DEL', own_covered)
      end
    else
      local eligible_at = now + delay
      local existing_raw = redis.call('HGET', pmeta_key, item.path)
      if existing_raw then
        local existing = cjson.decode(existing_raw)
        local score = redis.call('ZSCORE', keyspace.pending(otype, existing.lane, domain), item.path)
        if score then eligible_at = math.max(eligible_at, tonumber(score)) end
        meta.lane = higher_lane(meta.lane, existing.lane)
        meta.hits = math.max(tonumber(meta.hits) or 1, tonumber(existing.hits) or 1)
        meta.lastSeenAt = math.max(tonumber(meta.lastSeenAt) or 0, tonumber(existing.lastSeenAt) or 0)
        -- The request that pended the newer copy still waits on it.
        meta.r = existing.r
        remove_pending(backlog, otype, item.path, existing)
        touched[otype .. '|' .. existing.lane] = true
      end
      add_pending(backlog, otype, item.path, eligible_at, meta)
      link(otype, item.path, meta, request_ids)
      touched[otype .. '|' .. meta.lane] = true
    end
  end
end

refresh_touched(domain, touched, now, window, max_files, max_dirs)
redis.call('DEL', batch_key)
redis.call('ZREM', inflight_key, batch_id)
return 1
