-- session.facts (from the scheduler's outbox, the message id as request id):
-- the body, {revision, session {id, title, room, start, end, cancel_until,
-- capacity, status, [reason]}, event {id, kind, title, place, status,
-- [reason]}}; ARGV[5], ARGV[6] and ARGV[7] the session's start, end and
-- cancellation deadline in UTC seconds (ARGV[7] "" if it has none).
--
-- Facts older than those stored are acknowledged and ignored: they never go
-- backwards, whatever order the outbox delivers in. Newer facts tell the
-- people registered, in this same step, through the outbox: a session moved
-- (its times, room or place) reaches everyone in it (session-moved); a
-- cancelled session ends its registrations (session-cancelled); a cancelled
-- event ends every session of it at once, one e-mail a person
-- (event-cancelled). Nobody is told about a session that is over. Seats the
-- facts add (a raised capacity) go to the first on the waitlist.
local seen = schalt.replay()
if seen then return seen end
local facts = schalt.body()
local key = registry.session_key(facts.session.id)
local old = schalt.load(key)
local stored = old and tonumber(old.revision) or 0
if facts.revision <= stored then
    return schalt.answer(200, cjson.encode({applied = false, revision = stored}))
end
local session, event = facts.session, facts.event
schalt.store(key, {revision = facts.revision, id = session.id, title = session.title,
    room = session.room, start = session.start, ['end'] = session['end'],
    start_ts = ARGV[5], end_ts = ARGV[6], cancel_until = session.cancel_until or '',
    cancel_until_ts = ARGV[7], capacity = session.capacity, status = session.status,
    promotion = session.promotion or 'auto', hold_hours = session.hold_hours or 48,
    reason = session.reason or '', event = event.id, event_kind = event.kind,
    event_title = event.title, place = event.place, event_status = event.status,
    organiser_name = event.organiser_name or '', organiser_email = event.organiser_email or '',
    waitlist_alert = event.waitlist_alert or 10})
redis.call('ZADD', registry.sessions_key, ARGV[5], session.id)
local now, stamp = tonumber(ARGV[3]), schalt.now()
local current = schalt.load(key)

-- An offer never lasts past the start: a session moved earlier cuts them short
local start_ts = tonumber(current.start_ts)
for _, id in ipairs(redis.call('ZRANGE', registry.session_list_key(current.id, 'offered'), 0, -1)) do
    local until_ts = tonumber(redis.call('HGET', registry.registration_key(id), 'offer_until_ts'))
    if until_ts and until_ts > start_ts then
        redis.call('HSET', registry.registration_key(id), 'offer_until_ts', start_ts,
            'offer_until', current.start)
        redis.call('ZADD', registry.due_key, start_ts, id)
        schalt.touch(registry.due_key)
    end
end
-- Seats first: who is promoted now learns the new facts from that e-mail
local promoted = registry.fill(current, now, stamp)
local skip = {}
for _, id in ipairs(promoted) do skip[id] = true end
local told = 0
if old and old.status == 'scheduled' and tonumber(current.end_ts) > now then
    if event.status == 'cancelled' and old.event_status ~= 'cancelled' then
        told = registry.cancel_event(current, event.reason or '', stamp, now)
    elseif session.status == 'cancelled' then
        told = registry.cancel_session(current, session.reason or '', stamp)
    elseif registry.moved(old, current) then
        told = registry.tell_moved(old, current, skip)
    end
end
registry.alert(schalt.load(key))
return schalt.answer(200, cjson.encode({applied = true, revision = facts.revision, told = told,
    promoted = #promoted}))
