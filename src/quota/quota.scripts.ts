/**
 * The two Redis scripts behind every limit. Each runs atomically in one round trip.
 *
 * Per scope (org, key, org×model) and kind the state is:
 *   <p>:rq   ZSET  request id → admission time            (requests per minute: a sliding 60 s log)
 *   <p>:tk   ZSET  "<request id>:<tokens>" → admission time (tokens per minute: sliding log of reservations)
 *   <p>:tks  STRING running sum of the tokens in <p>:tk
 *   <p>:cc   ZSET  request id → lease expiry               (concurrency leases; a dead gateway's expire)
 *   <p>:sd:<yyyymmdd>, <p>:sm:<yyyymm>  STRING spend in micro-units (reserved, then reconciled)
 * All keys of one organization share the hash tag {o:<org id>} so the scripts work on Redis Cluster.
 *
 * Token counts and costs must be whole numbers from 0 to 2^53 - 1 written in decimal digits: a negative
 * reservation would loosen a limit and its settlement would charge the difference, a fraction or an
 * exponent would break the "<request id>:<tokens>" members. The scripts refuse anything else with an
 * INVALID_AMOUNT error before touching a key (QuotaStore checks first; this is the second line).
 * Members are built from the argument strings, never from Lua numbers (which print 15+ digits with an
 * exponent).
 */

/** Checks one amount argument; raises INVALID_AMOUNT <name> when it is not a whole number in range. */
const AMOUNT = `
local function amount(name, s)
  if not string.match(s, '^%d+$') or #s > 16 or tonumber(s) > 9007199254740991 then
    error({err = 'INVALID_AMOUNT ' .. name .. ' ' .. string.sub(s, 1, 24)})
  end
  return tonumber(s)
end
`;

/**
 * ADMIT. ARGV: now, window_ms, request_id, tokens, cost, lease_expiry, day, month, n_scopes, then per
 * scope: prefix, rpm, tpm, concurrency, day_limit, month_limit (-1 = no limit).
 * Returns {1, per scope: rpm_remaining, tpm_remaining} (-1 = no limit) when admitted, or
 * {0, scope_index, kind, limit, reset_ms} when refused (kind: rpm | tpm | tpm_too_large | concurrency |
 * spend_day | spend_month). Nothing is written when refused.
 */
export const ADMIT_SCRIPT = `${AMOUNT}
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local id = ARGV[3]
local tokens = amount('tokens', ARGV[4])
local cost = amount('cost', ARGV[5])
local lease = tonumber(ARGV[6])
local day = ARGV[7]
local month = ARGV[8]
local n = tonumber(ARGV[9])
local since = now - window

local function expire_tokens(p)
  local old = redis.call('ZRANGEBYSCORE', p .. ':tk', '-inf', since)
  if #old > 0 then
    local freed = 0
    for _, m in ipairs(old) do freed = freed + tonumber(string.match(m, ':(%d+)$')) end
    redis.call('ZREMRANGEBYSCORE', p .. ':tk', '-inf', since)
    redis.call('DECRBY', p .. ':tks', freed)
  end
  return tonumber(redis.call('GET', p .. ':tks') or '0')
end

-- time until enough of the oldest reservations leave the window for 'need' more tokens to fit
local function tokens_reset(p, used, limit, need)
  local excess = used + need - limit
  if excess <= 0 then return 0 end
  local entries = redis.call('ZRANGE', p .. ':tk', 0, -1, 'WITHSCORES')
  local freed = 0
  for i = 1, #entries, 2 do
    freed = freed + tonumber(string.match(entries[i], ':(%d+)$'))
    if freed >= excess then return tonumber(entries[i + 1]) + window - now end
  end
  return window
end

local function oldest_reset(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #first == 0 then return 0 end
  return tonumber(first[2]) + window - now
end

local state = {}
for s = 1, n do
  local b = 9 + (s - 1) * 6
  local p, rpm, tpm, cc, dl, ml = ARGV[b + 1], tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6])
  redis.call('ZREMRANGEBYSCORE', p .. ':rq', '-inf', since)
  local requests = redis.call('ZCARD', p .. ':rq')
  local used = expire_tokens(p)
  if rpm >= 0 and requests + 1 > rpm then return {0, s, 'rpm', rpm, oldest_reset(p .. ':rq')} end
  if tpm >= 0 and tokens > tpm then return {0, s, 'tpm_too_large', tpm, 0} end
  if tpm >= 0 and used + tokens > tpm then return {0, s, 'tpm', tpm, tokens_reset(p, used, tpm, tokens)} end
  if cc >= 0 then
    redis.call('ZREMRANGEBYSCORE', p .. ':cc', '-inf', now)
    if redis.call('ZCARD', p .. ':cc') + 1 > cc then return {0, s, 'concurrency', cc, 1000} end
  end
  if dl >= 0 and tonumber(redis.call('GET', p .. ':sd:' .. day) or '0') + cost > dl then return {0, s, 'spend_day', dl, 0} end
  if ml >= 0 and tonumber(redis.call('GET', p .. ':sm:' .. month) or '0') + cost > ml then return {0, s, 'spend_month', ml, 0} end
  state[s] = {p, rpm, tpm, cc, requests, used}
end

local out = {1}
for s = 1, n do
  local p, rpm, tpm, cc, requests, used = unpack(state[s])
  redis.call('ZADD', p .. ':rq', now, id)
  redis.call('PEXPIRE', p .. ':rq', window * 2)
  redis.call('ZADD', p .. ':tk', now, id .. ':' .. ARGV[4])
  redis.call('INCRBY', p .. ':tks', tokens)
  redis.call('PEXPIRE', p .. ':tk', window * 2)
  redis.call('PEXPIRE', p .. ':tks', window * 2)
  redis.call('ZADD', p .. ':cc', lease, id)
  redis.call('PEXPIRE', p .. ':cc', math.max(lease - now, 1) * 2)
  if cost > 0 then
    redis.call('INCRBY', p .. ':sd:' .. day, cost)
    redis.call('EXPIRE', p .. ':sd:' .. day, 3 * 86400)
    redis.call('INCRBY', p .. ':sm:' .. month, cost)
    redis.call('EXPIRE', p .. ':sm:' .. month, 62 * 86400)
  end
  out[#out + 1] = rpm >= 0 and (rpm - requests - 1) or -1
  out[#out + 1] = tpm >= 0 and (tpm - used - tokens) or -1
end
return out
`;

/**
 * SETTLE. ARGV: request_id, reserved_tokens, actual_tokens, reserved_cost, actual_cost, day, month, then
 * prefixes. Releases the concurrency lease and replaces the token reservation by the real count (same
 * admission time, so it stays in the same window); spend moves by the difference between real and
 * reserved cost. Both sides are passed (not their difference) so each can be checked to be ≥ 0.
 * Returns the spend totals (day, month) of each scope after the update, for soft-budget alerts.
 * Applies once: the first scope's lease is the receipt. A settle retried after a lost reply (Redis
 * went away after running it) finds the lease gone and changes nothing, returning no totals; so does
 * one whose lease lapsed (the reservation then stands: over-counted, never under).
 */
export const SETTLE_SCRIPT = `${AMOUNT}
local id, day, month = ARGV[1], ARGV[6], ARGV[7]
local reserved = amount('reserved_tokens', ARGV[2])
local actual = amount('actual_tokens', ARGV[3])
local reserved_cost = amount('reserved_cost', ARGV[4])
local delta = amount('actual_cost', ARGV[5]) - reserved_cost
local out = {}
if redis.call('ZREM', ARGV[8] .. ':cc', id) == 0 then return out end
for i = 8, #ARGV do
  local p = ARGV[i]
  redis.call('ZREM', p .. ':cc', id)
  local member = id .. ':' .. ARGV[2]
  local at = redis.call('ZSCORE', p .. ':tk', member)
  if at then
    redis.call('ZREM', p .. ':tk', member)
    redis.call('ZADD', p .. ':tk', at, id .. ':' .. ARGV[3])
    redis.call('INCRBY', p .. ':tks', actual - reserved)
  end
  local d, m = 0, 0
  if delta ~= 0 then
    if redis.call('EXISTS', p .. ':sd:' .. day) == 1 then d = redis.call('INCRBY', p .. ':sd:' .. day, delta) end
    if redis.call('EXISTS', p .. ':sm:' .. month) == 1 then m = redis.call('INCRBY', p .. ':sm:' .. month, delta) end
  else
    d = tonumber(redis.call('GET', p .. ':sd:' .. day) or '0')
    m = tonumber(redis.call('GET', p .. ':sm:' .. month) or '0')
  end
  out[#out + 1] = d
  out[#out + 1] = m
end
return out
`;

/**
 * RENEW. ARGV: request_id, lease_expiry, key_ttl_ms, then prefixes. Extends a long request's
 * concurrency lease, and the lease set's own expiry with it (else a scope with no new admissions for a
 * while would lose the leases of its running requests).
 */
export const RENEW_SCRIPT = `
for i = 4, #ARGV do
  local key = ARGV[i] .. ':cc'
  if redis.call('ZADD', key, 'XX', 'CH', ARGV[2], ARGV[1]) >= 0 then redis.call('PEXPIRE', key, ARGV[3]) end
end
return 1
`;
