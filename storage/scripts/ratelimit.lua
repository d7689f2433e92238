-- A sliding-window limit over several windows at once: the attempt counts in every window
-- or in none. KEYS: one sorted set per window (scores: attempt times in ms).
-- ARGV: window_ms, attempt id, limit of KEYS[1], limit of KEYS[2], ...
-- Returns {1, 0} when allowed, {0, ms until a slot frees} when refused.
local ms = now_ms()
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ms - window)
  local limit = tonumber(ARGV[i + 2])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    -- The slot frees when the attempt `limit` places from the newest leaves the window.
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - ms
    if w > wait then wait = w end
  end
end
if wait > 0 then
  return {0, wait}
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ms, ms .. ':' .. ARGV[2])
  redis.call('PEXPIRE', key, window)
end
return {1, 0}
