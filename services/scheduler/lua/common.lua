-- common.lua: what every scheduler script shares (put in front of each by the
-- server), and the one place that names the scheduler's keys.
--
-- (The timeline worker, scheduler_timeline.c, reads the timeline, the plan,
-- sessions and events in C: their names are in scheduler.h as well.)
--
-- Every key carries the hash tag {events}: the scheduler's data is small (an
-- office has hundreds of events a year, not millions), and scripts that check
-- a room or an event's sessions touch many of them, so all live in one slot.
--   scheduler:{events}:event:<evt-id>            hash: an event (forever)
--   scheduler:{events}:index                     zset: event ids by start (forever)
--   scheduler:{events}:event:<evt-id>:sessions   zset: its session ids by start (forever)
--   scheduler:{events}:session:<ses-id>          hash: a session (forever)
--   scheduler:{events}:outbox:registry           list: session facts for the registry,
--                                                until it acknowledges them
--   scheduler:{events}:dead:registry             list: facts the registry refused
--                                                (kept for an admin)
--   scheduler:{events}:timeline                  zset: the reminders planned, by due time
--                                                (UTC seconds): rem-<ses-id>-<offset>-r<revision>;
--                                                each session's hash names its own (planned)
--   scheduler:{events}:plan                      hash: session id -> when (UTC seconds) it
--                                                changed: its reminders are to be planned
--   scheduler:{events}:timeline:offsets          string: the configured offsets the timeline
--                                                was last planned with
--   scheduler:{events}:request:<request-id>      hash: digest, status, body of a
--                                                state-changing request's reply
--                                                (schaltstelle/request_ttl seconds)
local scheduler = {}
-- The prefix comes from KEYS[1], in the tag scheduler.c's s_tag names
scheduler.prefix = schalt.prefix
scheduler.index_key = scheduler.prefix .. 'index'

function scheduler.event_key(id) return scheduler.prefix .. 'event:' .. id end
function scheduler.sessions_key(id) return scheduler.prefix .. 'event:' .. id .. ':sessions' end
function scheduler.session_key(id) return scheduler.prefix .. 'session:' .. id end

scheduler.registry_outbox = scheduler.prefix .. 'outbox:registry'
scheduler.timeline_key = scheduler.prefix .. 'timeline'
scheduler.plan_key = scheduler.prefix .. 'plan'
scheduler.offsets_key = scheduler.prefix .. 'timeline:offsets'

-- Fields shown to clients, in the order of the reply schemas.
local event_fields = {'id', 'kind', 'title', 'description', 'place', 'start', 'end',
    'organiser_name', 'organiser_email', 'provider', 'waitlist_alert', 'reminders', 'status', 'reason',
    'created', 'updated'}
local session_fields = {'id', 'event', 'title', 'room', 'start', 'end', 'cancel_until', 'capacity',
    'promotion', 'hold_hours', 'topics', 'status', 'reason', 'created', 'updated'}

-- A record as the JSON object clients see (numbers and lists restored).
function scheduler.view(record, fields)
    local view = {}
    for _, name in ipairs(fields) do
        if record[name] and (name ~= 'reason' or record[name] ~= '') then
            view[name] = record[name]
        end
    end
    if view.capacity then view.capacity = tonumber(view.capacity) end
    if view.hold_hours then view.hold_hours = tonumber(view.hold_hours) end
    if view.waitlist_alert then view.waitlist_alert = tonumber(view.waitlist_alert) end
    if view.topics then view.topics = cjson.decode(view.topics) end
    return view
end

function scheduler.event_view(record) return scheduler.view(record, event_fields) end
function scheduler.session_view(record) return scheduler.view(record, session_fields) end

-- Encodes {name = view}, keeping an empty topics list a list.
function scheduler.encode(wrapper)
    return schalt.encode(wrapper, {'topics', 'events', 'sessions'})
end

-- Applies the changes (a table of field -> value) to a copy of record.
function scheduler.merge(record, changes)
    local merged = {}
    for name, value in pairs(record) do merged[name] = value end
    for name, value in pairs(changes) do merged[name] = value end
    return merged
end

-- The first scheduled session of the event, other than except_id, that uses
-- the same room at an overlapping time; nil if none. Rooms compare without
-- regard to case or surrounding spaces ("a101" is "A101 ").
local function room_name(room) return string.lower((string.gsub(room, '^%s*(.-)%s*$', '%1'))) end

function scheduler.room_conflict(event_id, except_id, room, start_ts, end_ts)
    local wanted = room_name(room)
    for _, id in ipairs(redis.call('ZRANGE', scheduler.sessions_key(event_id), 0, -1)) do
        if id ~= except_id then
            local other = schalt.load(scheduler.session_key(id))
            if other and other.status == 'scheduled' and room_name(other.room) == wanted
                and tonumber(other.start_ts) < end_ts and start_ts < tonumber(other.end_ts) then
                return other
            end
        end
    end
    return nil
end

-- The first scheduled session of the event that lies outside [start_ts, end_ts).
function scheduler.session_outside(event_id, start_ts, end_ts)
    for _, id in ipairs(redis.call('ZRANGE', scheduler.sessions_key(event_id), 0, -1)) do
        local session = schalt.load(scheduler.session_key(id))
        if session and session.status == 'scheduled'
            and (tonumber(session.start_ts) < start_ts or tonumber(session.end_ts) > end_ts) then
            return session
        end
    end
    return nil
end

-- Checks a session's record against its event and the rooms; returns an
-- error reply or nil.
function scheduler.check_session(event, session)
    if event.status ~= 'scheduled' then
        return schalt.fail(409, 'event_cancelled', '/event', 'the event ' .. event.id .. ' is cancelled')
    end
    local start_ts, end_ts = tonumber(session.start_ts), tonumber(session.end_ts)
    if end_ts <= start_ts then
        return schalt.fail(422, 'end_before_start', '/end', 'end must be after start')
    end
    if start_ts < tonumber(event.start_ts) or end_ts > tonumber(event.end_ts) then
        return schalt.fail(422, 'outside_event', start_ts < tonumber(event.start_ts) and '/start' or '/end',
            'the session must lie within its event, ' .. event.start .. ' to ' .. event['end'])
    end
    if session.cancel_until_ts and tonumber(session.cancel_until_ts) > start_ts then
        return schalt.fail(422, 'cancel_after_start', '/cancel_until',
            'cancel_until must not be after the start, ' .. session.start)
    end
    local other = scheduler.room_conflict(event.id, session.id, session.room, start_ts, end_ts)
    if other then
        return schalt.answer(409, cjson.encode({error = {code = 'room_taken', field = '/room',
            conflict = other.id, message = 'room ' .. other.room .. ' is taken by session ' .. other.id
            .. ' (' .. other.title .. ') from ' .. other.start .. ' to ' .. other['end']}}))
    end
    return nil
end


-- The reminders of a session planned in the timeline, as a list of ids.
function scheduler.planned(session)
    local list = {}
    for id in string.gmatch(session.planned or '', '%S+') do list[#list + 1] = id end
    return list
end

-- Takes the session's reminders out of the timeline, and, unless it is
-- cancelled, asks the timeline worker to plan them for the session as it is
-- now: a reminder made for the old revision is never sent (it names the
-- old time); the new ones follow within a tick of the worker.
function scheduler.replan(session, event)
    for _, id in ipairs(scheduler.planned(session)) do
        redis.call('ZREM', scheduler.timeline_key, id)
    end
    session.planned = ''
    redis.call('HSET', scheduler.session_key(session.id), 'planned', '')
    local now = tonumber(ARGV[3])
    if session.status == 'scheduled' and event.status == 'scheduled'
        and tonumber(session.start_ts) > now then
        redis.call('HSET', scheduler.plan_key, session.id, now)
        schalt.touch(scheduler.plan_key) -- the worker plans at once, not at its next tick
    else
        redis.call('HDEL', scheduler.plan_key, session.id)
    end
end

-- Tells the registry a session's facts as they are now, through the outbox
-- (rule 4), in the same step as the change. Every change bumps the session's
-- revision, and the registry applies facts only if they are newer than what
-- it has: session facts never go backwards. The reminders follow the change.
function scheduler.send_facts(session, event)
    session.revision = (tonumber(session.revision) or 0) + 1
    redis.call('HSET', scheduler.session_key(session.id), 'revision', session.revision)
    scheduler.replan(session, event)
    local facts = {
        revision = session.revision,
        session = {id = session.id, title = session.title, room = session.room,
            start = session.start, ['end'] = session['end'], cancel_until = session.cancel_until,
            capacity = tonumber(session.capacity), status = session.status,
            promotion = session.promotion or 'auto', hold_hours = tonumber(session.hold_hours) or 48,
            reason = session.reason ~= '' and session.reason or nil},
        event = {id = event.id, kind = event.kind, title = event.title, place = event.place,
            status = event.status, reason = event.reason ~= '' and event.reason or nil,
            organiser_name = event.organiser_name, organiser_email = event.organiser_email,
            waitlist_alert = tonumber(event.waitlist_alert)}}
    schalt.outbox(scheduler.registry_outbox, 'sf-' .. session.id .. '-' .. session.revision,
        'session.facts', cjson.encode(facts))
end

-- Sends the facts of every session of the event whose status is in statuses
-- (a set), as changed by change(session) first.
function scheduler.send_event_facts(event, statuses, change)
    for _, id in ipairs(redis.call('ZRANGE', scheduler.sessions_key(event.id), 0, -1)) do
        local session = schalt.load(scheduler.session_key(id))
        if session and statuses[session.status] then
            if change then change(session) end
            scheduler.send_facts(session, event)
        end
    end
end
