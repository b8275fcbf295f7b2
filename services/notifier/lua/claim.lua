-- claim (the delivery loop's, not a request): KEYS[1] the due queue,
-- KEYS[2] the lock. ARGV[1] now (ms), ARGV[2] now (RFC 3339), ARGV[3] how
-- many notices to claim (0 only renews the lock), ARGV[4] the lease (ms),
-- ARGV[5] this process's token, ARGV[6] how long the lock lasts (ms).
--
-- Only the notifier holding the lock delivers. Taking the lock over (at the
-- first start, or once a crashed notifier's lock has expired) makes every
-- notice it left in 'sending' due again at the time it was due when it was
-- claimed (due_ms), so that it keeps its place ahead of what was queued
-- since: it may have been sent already (the e-mail goes out again, with the
-- same Message-ID), or not.
-- A claimed notice is 'sending' and due again after the lease, so that it
-- is retried even if its result is never recorded.
--
-- Returns {standby (1: another notifier holds the lock), took_over,
-- counts per state as JSON, each claimed notice as {id, template, language,
-- name, email, variables (JSON text), attempts (JSON text), deferrals,
-- created_ms, token, resend (1 or 0)}...}.
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
        local due = tonumber(redis.call('HGET', notifier.notice_key(id), 'due_ms')) or now
        redis.call('ZADD', KEYS[1], math.min(due, now), id)
    end
end
local result = {0, took_over, ''}
local batch = tonumber(ARGV[3])
if batch > 0 then
    local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, batch)
    for at = 1, #due, 2 do
        local id, due_ms = due[at], due[at + 1]
        local key = notifier.notice_key(id)
        local found = redis.call('HMGET', key, 'state', 'template', 'language', 'name', 'email',
            'variables', 'attempts', 'deferrals', 'created_ms')
        local notice = {id = id, state = found[1], template = found[2], language = found[3],
            name = found[4], email = found[5], variables = found[6], attempts = found[7],
            deferrals = found[8], created_ms = found[9]}
        if not notice.state or (notice.state ~= 'queued' and notice.state ~= 'deferred'
                and notice.state ~= 'sending') then
            redis.call('ZREM', KEYS[1], id) -- nothing left to deliver
        elseif not (notice.template and notice.language and notice.name and notice.email
                and notice.variables and notice.attempts and notice.deferrals
                and notice.created_ms) then
            -- Not a whole notice (edited by hand?): it can never be sent, so it
            -- fails now instead of coming back after every lease
            redis.call('ZREM', KEYS[1], id)
            notifier.move(notice, 'failed', ARGV[1])
            redis.call('HSET', key, 'state', 'failed', 'updated', ARGV[2], 'updated_ms', ARGV[1],
                'next_attempt', '', 'reason', 'the stored notice is incomplete')
        else
            local resend = notice.state == 'sending'
            notifier.move(notice, 'sending', ARGV[1])
            redis.call('HSET', key, 'state', 'sending', 'updated', ARGV[2], 'updated_ms', ARGV[1],
                'sending_since', ARGV[1], 'due_ms', due_ms, 'next_attempt', '')
            redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), id)
            result[#result + 1] = {notice.id, notice.template, notice.language, notice.name,
                notice.email, notice.variables, notice.attempts, notice.deferrals,
                notice.created_ms, ARGV[1], resend and 1 or 0}
        end
    end
end
result[3] = notifier.counts()
return result
