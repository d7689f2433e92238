-- Record a step of a running job if this engine still holds it; tell the job's cancel flag.
-- KEYS: job
-- ARGV: engine_id, attempt, step, total, channel, payload
local j = redis.call('HMGET', KEYS[1], 'state', 'engine', 'attempts', 'cancel')
if j[1] ~= 'running' or j[2] ~= ARGV[1] or j[3] ~= ARGV[2] then
  return -1
end
redis.call('HSET', KEYS[1], 'step', ARGV[3], 'total_steps', ARGV[4])
if ARGV[5] ~= '' then
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
if j[4] == '1' then
  return 1
end
return 0
