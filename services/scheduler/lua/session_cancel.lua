-- session.cancel: the body's id and reason; ARGV[5] the time as RFC 3339.
local seen = schalt.replay()
if seen then return seen end
local request = schalt.body()
local reason, now = request.reason or '', ARGV[5]
local key = scheduler.session_key(request.id)
local session = schalt.load(key)
if not session then
    return schalt.fail(404, 'not_found', '/id', 'no session ' .. request.id)
end
if session.status ~= 'scheduled' then
    return schalt.fail(409, 'already_cancelled', '/id', 'the session ' .. session.id .. ' is already cancelled')
end
redis.call('HSET', key, 'status', 'cancelled', 'reason', reason, 'updated', now)
session.status, session.reason, session.updated = 'cancelled', reason, now
scheduler.send_facts(session, schalt.load(scheduler.event_key(session.event)))
local body = scheduler.encode({session = scheduler.session_view(session)})
return schalt.answer(200, body, 'session.cancelled', body)
