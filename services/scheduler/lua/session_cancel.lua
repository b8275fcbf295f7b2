-- session.cancel: KEYS[1] request, KEYS[2] the session. ARGV[4] the session
-- id, ARGV[5] the reason, ARGV[6] the time as RFC 3339.
local seen = schalt.replay()
if seen then return seen end
local session = schalt.load(KEYS[2])
if not session then
    return schalt.fail(404, 'not_found', '/id', 'no session ' .. ARGV[4])
end
if session.status ~= 'scheduled' then
    return schalt.fail(409, 'already_cancelled', '/id', 'the session ' .. session.id .. ' is already cancelled')
end
redis.call('HSET', KEYS[2], 'status', 'cancelled', 'reason', ARGV[5], 'updated', ARGV[6])
session.status, session.reason, session.updated = 'cancelled', ARGV[5], ARGV[6]
scheduler.send_facts(session, schalt.load(scheduler.event_key(session.event)))
local body = scheduler.encode({session = scheduler.session_view(session)})
return schalt.answer(200, body, 'session.cancelled', body)
