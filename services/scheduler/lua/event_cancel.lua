-- event.cancel: the body's id and reason; ARGV[5] the time as RFC 3339.
-- Cancels its sessions too.
local seen = schalt.replay()
if seen then return seen end
local request = schalt.body()
local reason, now = request.reason or '', ARGV[5]
local key = scheduler.event_key(request.id)
local event = schalt.load(key)
if not event then
    return schalt.fail(404, 'not_found', '/id', 'no event ' .. request.id)
end
if event.status == 'cancelled' then
    return schalt.fail(409, 'already_cancelled', '/id', 'the event ' .. event.id .. ' is already cancelled')
end
redis.call('HSET', key, 'status', 'cancelled', 'reason', reason, 'updated', now)
event.status, event.reason, event.updated = 'cancelled', reason, now
scheduler.send_event_facts(event, {scheduled = true}, function(session)
    redis.call('HSET', scheduler.session_key(session.id), 'status', 'cancelled', 'reason', reason,
        'updated', now)
    session.status = 'cancelled'
end)
local body = scheduler.encode({event = scheduler.event_view(event)})
return schalt.answer(200, body, 'event.cancelled', body)
