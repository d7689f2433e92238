-- Take over ONE stream entry held by an engine whose heartbeat has expired.
-- Idle time alone never counts: a long job is not a dead job.
-- KEYS: lane
-- ARGV: group, me, heartbeat_key_prefix
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 100)
for _, p in ipairs(pending) do
  local owner = p[2]
  if owner ~= ARGV[2] and redis.call('EXISTS', ARGV[3] .. owner) == 0 then
    local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, p[1])
    if claimed[1] then
      return {claimed[1][1], claimed[1][2][2], owner}
    end
    -- The entry was deleted under us (XDEL): drop the dangling pending reference.
    redis.call('XACK', KEYS[1], ARGV[1], p[1])
  end
end
return false
