-- session.create: KEYS[1] request, KEYS[2] the event, KEYS[3] the event's
-- sessions, KEYS[4] the new session. ARGV[4] the session as JSON.
local seen = schalt.replay()
if seen then return seen end
local session = cjson.decode(ARGV[4])
local event = schalt.load(KEYS[2])
if not event then
    return schalt.fail(404, 'not_found', '/event', 'no event ' .. session.event)
end
local refused = scheduler.check_session(event, session)
if refused then return refused end
if redis.call('EXISTS', KEYS[4]) == 1 then
    return schalt.error(500, 'id_collision', '', 'a new id was taken; retry with a new request id')
end
schalt.store(KEYS[4], session)
redis.call('ZADD', KEYS[3], session.start_ts, session.id)
scheduler.send_facts(session, event)
local body = scheduler.encode({session = scheduler.session_view(session)})
return schalt.answer(201, body, 'session.created', body)
