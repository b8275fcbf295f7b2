-- session.facts (from the scheduler's outbox, the message id as request id):
-- the body, {revision, session {id, title, room, start, end, capacity,
-- status}, event {id, kind, title, place, status}}; ARGV[5] and ARGV[6] the
-- session's start and end in UTC seconds.
-- Facts older than those stored are acknowledged and ignored: they never go
-- backwards, whatever order the outbox delivers in.
local seen = schalt.replay()
if seen then return seen end
local facts = schalt.body()
local key = registry.session_key(facts.session.id)
local stored = tonumber(redis.call('HGET', key, 'revision') or '0')
if facts.revision <= stored then
    return schalt.answer(200, cjson.encode({applied = false, revision = stored}))
end
local session, event = facts.session, facts.event
schalt.store(key, {revision = facts.revision, id = session.id, title = session.title,
    room = session.room, start = session.start, ['end'] = session['end'],
    start_ts = ARGV[5], end_ts = ARGV[6], capacity = session.capacity, status = session.status,
    event = event.id, event_kind = event.kind, event_title = event.title, place = event.place,
    event_status = event.status})
redis.call('ZADD', registry.sessions_key, ARGV[5], session.id)
return schalt.answer(200, cjson.encode({applied = true, revision = facts.revision}))
