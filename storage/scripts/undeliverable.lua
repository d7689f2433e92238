-- A bot gave up delivering a finished clip: refund the user, end the job as failed, ack.
-- KEYS: job, resv, quota(user), results
-- ARGV: entry_id, group
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'state', 'failed', 'error', 'undeliverable')
  redis.call('HSETNX', KEYS[1], 'delivered_at', now_ms())
end
local refunded = refund(KEYS[2], KEYS[3])
redis.call('XACK', KEYS[4], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[4], ARGV[1])
return refunded
