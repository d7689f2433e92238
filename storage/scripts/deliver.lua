-- A bot delivered a result: commit the charge (once per job) and acknowledge the event.
-- KEYS: job, resv, results
-- ARGV: job_id, entry_id (may be empty), group
local first = 0
-- A job forgotten or expired meanwhile must not come back as a bare, immortal hash.
if redis.call('EXISTS', KEYS[1]) == 1 and
    redis.call('HSETNX', KEYS[1], 'delivered_at', now_ms()) == 1 then
  first = 1
end
redis.call('DEL', KEYS[2])
if ARGV[2] ~= '' then
  redis.call('XACK', KEYS[3], ARGV[3], ARGV[2])
  redis.call('XDEL', KEYS[3], ARGV[2])
end
return first
