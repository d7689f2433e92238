-- A stopping engine returns its job to the front of the queue; not counted as a delivery.
-- KEYS: job, queue, running, heartbeat
-- ARGV: job_id, engine_id, attempt
-- Returns a Handback value: 'handed_back', 'not_ours', or 'cancelled' (end it with finish).
local j = redis.call('HMGET', KEYS[1], 'state', 'engine', 'attempts', 'seq', 'cancel')
if j[1] ~= 'running' or j[2] ~= ARGV[2] or j[3] ~= ARGV[3] then
  return 'not_ours'
end
if j[5] == '1' then
  -- Cancelled (or forgotten) meanwhile: the engine ends it instead of queueing it again.
  return 'cancelled'
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'engine', '', 'step', 0)
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], tonumber(j[4]), ARGV[1])
-- Dropping the heartbeat lets any idle engine reclaim the stream entry at once.
redis.call('DEL', KEYS[4])
return 'handed_back'
