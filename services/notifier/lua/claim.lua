-- claim (the delivery loop's, not a request): KEYS[1] the due queue,
-- KEYS[2] the lock. ARGV[1] now (ms), ARGV[2] now (RFC 3339), ARGV[3] how
-- many notices to claim (0 only renews the lock), ARGV[4] the lease (ms),
-- ARGV[5] this process's token, ARGV[6] how long the lock lasts (ms).
--
-- Only the notifier holding the lock delivers. Taking the lock over (at the
-- first start, or once a crashed notifier's lock has expired) makes every
-- notice it left in 'sending' due at once: it may have been sent already
-- (the e-mail goes out again, with the same Message-ID), or not.
-- A claimed notice is 'sending' and due again after the lease, so that it
-- is retried even if its result is never recorded.
--
-- Returns {standby (1: another notifier holds the lock), took_over,
-- counts per state as JSON, each claimed notice as JSON...}.
local now = tonumber(ARGV[1])
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[5] then
    return {1, 0, notifier.counts()}
end
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
local took_over = 0
if not owner then
    took_over = 1
    for _, id in ipairs(redis.call('ZRANGE', notifier.state_key('sending'), 0, -1)) do
        redis.call('ZADD', KEYS[1], now, id)
    end
end
local result = {0, took_over, ''}
local batch = tonumber(ARGV[3])
if batch > 0 then
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, batch)) do
        local key = notifier.notice_key(id)
        local notice = schalt.load(key)
        if not notice or (notice.state ~= 'queued' and notice.state ~= 'deferred'
                and notice.state ~= 'sending') then
            redis.call('ZREM', KEYS[1], id) -- nothing left to deliver
        else
            local resend = notice.state == 'sending'
            notifier.move(notice, 'sending', ARGV[1])
            redis.call('HSET', key, 'state', 'sending', 'updated', ARGV[2], 'updated_ms', ARGV[1],
                'sending_since', ARGV[1], 'next_attempt', '')
            redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), id)
            result[#result + 1] = cjson.encode({id = notice.id, template = notice.template,
                language = notice.language, name = notice.name, email = notice.email,
                variables = notice.variables, attempts = #cjson.decode(notice.attempts),
                deferrals = tonumber(notice.deferrals), created_ms = tonumber(notice.created_ms),
                token = ARGV[1], resend = resend})
        end
    end
end
result[3] = notifier.counts()
return result
