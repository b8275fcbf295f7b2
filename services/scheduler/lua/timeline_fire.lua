-- timeline.fire (an internal call of the timeline worker): the body's
-- session and the reminders of it that the worker found due. Of those still
-- planned and due by now, only the latest is sent (after an outage the
-- earlier ones are stale news), and only if the session has not begun and
-- the reminder is of its current revision; all of them leave the timeline.
-- Sending is one message to the registry through the outbox, audience.notify,
-- with an id made from the reminder's: the registry decides who is told.
local seen = schalt.replay()
if seen then return seen end
local body = schalt.body()
local now = tonumber(ARGV[3])
local key = scheduler.session_key(body.session)
local session = schalt.load(key)
local latest, latest_due, dropped = nil, nil, {}
local gone = {}
for _, id in ipairs(body.reminders) do
    local due = tonumber(redis.call('ZSCORE', scheduler.timeline_key, id))
    if due and due <= now then
        redis.call('ZREM', scheduler.timeline_key, id)
        gone[id] = true
        if not latest or due > latest_due then
            if latest then dropped[#dropped + 1] = latest end
            latest, latest_due = id, due
        else
            dropped[#dropped + 1] = id
        end
    end
end
local reason = nil
if session then
    local rest = {}
    for _, id in ipairs(scheduler.planned(session)) do
        if not gone[id] then rest[#rest + 1] = id end
    end
    redis.call('HSET', key, 'planned', table.concat(rest, ' '))
end
if not latest then
    reason = 'nothing due'
elseif not session or session.status ~= 'scheduled' then
    reason = 'session cancelled'
elseif tonumber(session.start_ts) <= now then
    reason = 'session has begun'
else
    local offset, revision = string.match(latest, '%-([0-9]+[dhm])%-r([0-9]+)$')
    if tonumber(revision) ~= tonumber(session.revision) then
        reason = 'session changed since'
    else
        schalt.outbox(scheduler.registry_outbox, 'an-' .. string.sub(latest, 5), 'audience.notify',
            cjson.encode({session = session.id, revision = tonumber(revision), offset = offset,
                due = schalt.instant(latest_due), kind = 'reminder',
                day_start = tonumber(session.day_start_ts) or latest_due,
                day_end = tonumber(session.day_end_ts) or tonumber(session.end_ts)}))
    end
end
if reason and latest then
    dropped[#dropped + 1] = latest
    latest = nil
end
return schalt.answer(200, schalt.encode({sent = latest or cjson.null, dropped = dropped,
    reason = reason}, {'dropped'}))
