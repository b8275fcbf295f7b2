-- session.create: ARGV[5] the new session as JSON (made and checked by its
-- prepare function: id, its event's id, times in UTC, topics, stamps).
local seen = schalt.replay()
if seen then return seen end
local session = cjson.decode(ARGV[5])
local key = scheduler.session_key(session.id)
local event = schalt.load(scheduler.event_key(session.event))
if not event then
    return schalt.fail(404, 'not_found', '/event', 'no event ' .. session.event)
end
local refused = scheduler.check_session(event, session)
if refused then return refused end
if redis.call('EXISTS', key) == 1 then
    return schalt.error(500, 'id_collision', '', 'a new id was taken; retry with a new request id')
end
schalt.store(key, session)
redis.call('ZADD', scheduler.sessions_key(event.id), session.start_ts, session.id)
scheduler.send_facts(session, event)
local body = scheduler.encode({session = scheduler.session_view(session)})
return schalt.answer(201, body, 'session.created', body)
