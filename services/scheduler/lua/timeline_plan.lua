-- timeline.plan (an internal call of the timeline worker): the body's
-- session, the revision and change time (since) it was planned for, its
-- local day (day_start, day_end: UTC seconds) and its reminders' due times.
-- Planned only if the session is still at that revision and scheduled, and
-- only the reminders due after the change: one whose time had passed before
-- the session changed was sent already, or was due for the old time. The
-- session's reminders not yet due make way for these (the configured
-- offsets may have changed); one overdue stays, to be sent.
local seen = schalt.replay()
if seen then return seen end
local body = schalt.body()
local now = tonumber(ARGV[3])
local key = scheduler.session_key(body.session)
local session = schalt.load(key)
local function done()
    if tonumber(redis.call('HGET', scheduler.plan_key, body.session)) == body.since then
        redis.call('HDEL', scheduler.plan_key, body.session)
    end
end
if not session or tonumber(session.revision) ~= body.revision or session.status ~= 'scheduled' then
    done()
    return schalt.answer(200, cjson.encode({planned = 0, stale = true}))
end
local kept = {}
for _, id in ipairs(scheduler.planned(session)) do
    local due = tonumber(redis.call('ZSCORE', scheduler.timeline_key, id))
    if due and due <= now then
        kept[#kept + 1] = id
    else
        redis.call('ZREM', scheduler.timeline_key, id)
    end
end
local planned = 0
for _, reminder in ipairs(body.due) do
    if reminder.at > body.since and reminder.at < tonumber(session.start_ts) then
        local id = 'rem-' .. session.id .. '-' .. reminder.offset .. '-r' .. session.revision
        if redis.call('ZADD', scheduler.timeline_key, reminder.at, id) == 1 then
            kept[#kept + 1] = id
        end
        planned = planned + 1
    end
end
redis.call('HSET', key, 'planned', table.concat(kept, ' '), 'day_start_ts', body.day_start,
    'day_end_ts', body.day_end)
done()
return schalt.answer(200, cjson.encode({planned = planned, stale = false}))
