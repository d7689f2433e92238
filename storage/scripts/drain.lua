-- An operator asks one live engine to drain: finish its current job, take no more, exit.
-- Nothing is written for an engine without a live heartbeat.
-- KEYS: heartbeat, drain
-- ARGV: ttl_ms
-- Returns the heartbeat's value ('-' idle, else the busy job id), or nil if not live.
local beat = redis.call('GET', KEYS[1])
if not beat then
  return false
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return beat
