-- One source's token bucket, atomic in Redis, shared by every worker. KEYS[1] = the bucket.
-- ARGV = capacity, refill per second, cost, max wait (s), block (s; > 0: block the source, reserve nothing).
-- A reservation takes `cost` tokens at once, even below zero, and answers how long to wait before using
-- them; so requests start no faster than the refill allows, however many workers ask. A reservation that
-- would wait longer than `max wait`, or any while the source is blocked, takes nothing.
-- Returns {reserved (0/1), wait (s, string), blocked for (s, string)}. The server clock is the only clock.
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local block = tonumber(ARGV[5])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'blocked_until')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
local blocked_until = tonumber(state[3]) or 0
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * refill)
end
local reserved = 0
local wait = 0
if block > 0 then
  blocked_until = math.max(blocked_until, now + block)
elseif blocked_until <= now then
  if tokens < cost then
    wait = (cost - tokens) / refill
  end
  if wait <= max_wait then
    tokens = tokens - cost
    reserved = 1
  end
end
local blocked_for = math.max(blocked_until - now, 0)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now), 'blocked_until', tostring(blocked_until))
local full_in = math.max((capacity - tokens) / refill, blocked_for)
redis.call('PEXPIRE', KEYS[1], math.ceil(full_in * 1000) + 1000)
return {reserved, tostring(wait), tostring(blocked_for)}
