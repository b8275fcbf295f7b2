-- event.cancel: KEYS[1] request, KEYS[2] the event. ARGV[4] the event id,
-- ARGV[5] the reason, ARGV[6] the time as RFC 3339. Cancels its sessions too.
local seen = schalt.replay()
if seen then return seen end
local event = scheduler.load(KEYS[2])
if not event then
    return schalt.fail(404, 'not_found', '/id', 'no event ' .. ARGV[4])
end
if event.status == 'cancelled' then
    return schalt.fail(409, 'already_cancelled', '/id', 'the event ' .. event.id .. ' is already cancelled')
end
for _, id in ipairs(redis.call('ZRANGE', scheduler.sessions_key(event.id), 0, -1)) do
    local key = scheduler.session_key(id)
    if redis.call('HGET', key, 'status') == 'scheduled' then
        redis.call('HSET', key, 'status', 'cancelled', 'reason', ARGV[5], 'updated', ARGV[6])
    end
end
redis.call('HSET', KEYS[2], 'status', 'cancelled', 'reason', ARGV[5], 'updated', ARGV[6])
event.status, event.reason, event.updated = 'cancelled', ARGV[5], ARGV[6]
local body = scheduler.encode({event = scheduler.event_view(event)})
return schalt.answer(200, body, 'event.cancelled', body)
