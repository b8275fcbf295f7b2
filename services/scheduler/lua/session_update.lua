-- session.update: the body's id; ARGV[5] the changes as JSON (times in UTC).
local seen = schalt.replay()
if seen then return seen end
local id = schalt.body().id
local key = scheduler.session_key(id)
local session = schalt.load(key)
if not session then
    return schalt.fail(404, 'not_found', '/id', 'no session ' .. id)
end
if session.status ~= 'scheduled' then
    return schalt.fail(409, 'session_cancelled', '/id', 'the session ' .. session.id .. ' is cancelled')
end
local merged = scheduler.merge(session, cjson.decode(ARGV[5]))
local event = schalt.load(scheduler.event_key(session.event))
local refused = scheduler.check_session(event, merged)
if refused then return refused end
schalt.store(key, merged)
redis.call('ZADD', scheduler.sessions_key(session.event), merged.start_ts, merged.id)
scheduler.send_facts(merged, event)
local body = scheduler.encode({session = scheduler.session_view(merged)})
return schalt.answer(200, body, 'session.updated', body)
