-- event.cancel: KEYS[1] request, KEYS[2] the event. ARGV[4] the event id,
-- ARGV[5] the reason, ARGV[6] the time as RFC 3339. Cancels its sessions too.
local seen = schalt.replay()
if seen then return seen end
local event = schalt.load(KEYS[2])
if not event then
    return schalt.fail(404, 'not_found', '/id', 'no event ' .. ARGV[4])
end
if event.status == 'cancelled' then
    return schalt.fail(409, 'already_cancelled', '/id', 'the event ' .. event.id .. ' is already cancelled')
end
redis.call('HSET', KEYS[2], 'status', 'cancelled', 'reason', ARGV[5], 'updated', ARGV[6])
event.status, event.reason, event.updated = 'cancelled', ARGV[5], ARGV[6]
scheduler.send_event_facts(event, {scheduled = true}, function(session)
    redis.call('HSET', scheduler.session_key(session.id), 'status', 'cancelled', 'reason', ARGV[5],
        'updated', ARGV[6])
    session.status = 'cancelled'
end)
local body = scheduler.encode({event = scheduler.event_view(event)})
return schalt.answer(200, body, 'event.cancelled', body)
