-- event.update: the body's id; ARGV[5] the changes as JSON (times in UTC),
-- ARGV[6] the kinds of event that have no reminders (a JSON list). A change
-- of its reminders re-plans those of every session (scheduler.send_facts).
local seen = schalt.replay()
if seen then return seen end
local id = schalt.body().id
local key = scheduler.event_key(id)
local event = schalt.load(key)
if not event then
    return schalt.fail(404, 'not_found', '/id', 'no event ' .. id)
end
if event.status ~= 'scheduled' then
    return schalt.fail(409, 'event_cancelled', '/id', 'the event ' .. event.id .. ' is cancelled')
end
local changes = cjson.decode(ARGV[5])
local merged = scheduler.merge(event, changes)
if merged.reminders and merged.reminders ~= 'none' then
    for _, kind in ipairs(cjson.decode(ARGV[6])) do
        if merged.kind == kind then
            return schalt.fail(422, 'no_reminders', changes.reminders and '/reminders' or '/kind',
                'events of kind ' .. kind .. ' have no reminders (scheduler/reminders/'
                .. string.gsub(kind, '-', '_') .. ' is none)')
        end
    end
end
local start_ts, end_ts = tonumber(merged.start_ts), tonumber(merged.end_ts)
if end_ts <= start_ts then
    return schalt.fail(422, 'end_before_start', changes.end_ts and '/end' or '/start',
        'end must be after start (' .. merged.start .. ' to ' .. merged['end'] .. ')')
end
local outside = scheduler.session_outside(event.id, start_ts, end_ts)
if outside then
    return schalt.answer(409, cjson.encode({error = {code = 'sessions_outside',
        field = changes.start_ts and '/start' or '/end', conflict = outside.id,
        message = 'session ' .. outside.id .. ' (' .. outside.title .. ') from ' .. outside.start
        .. ' to ' .. outside['end'] .. ' would lie outside the event'}}))
end
merged.updated = changes.updated
schalt.store(key, merged)
redis.call('ZADD', scheduler.index_key, merged.start_ts, merged.id)
-- Titles and places reach participants' e-mails: the registry must know
scheduler.send_event_facts(merged, {scheduled = true})
local body = scheduler.encode({event = scheduler.event_view(merged)})
return schalt.answer(200, body, 'event.updated', body)
