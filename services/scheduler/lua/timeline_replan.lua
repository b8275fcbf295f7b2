-- timeline.replan (an internal call of the timeline worker at start): the
-- body's offsets, the configured ones per kind as one text. If they differ
-- from those the timeline was planned with, every scheduled session that has
-- not begun is planned anew (timeline.plan keeps reminders already due).
local seen = schalt.replay()
if seen then return seen end
local body = schalt.body()
local now = tonumber(ARGV[3])
if redis.call('GET', scheduler.offsets_key) == body.offsets then
    return schalt.answer(200, cjson.encode({sessions = 0}))
end
redis.call('SET', scheduler.offsets_key, body.offsets)
local count = 0
for _, event_id in ipairs(redis.call('ZRANGE', scheduler.index_key, 0, -1)) do
    local event = schalt.load(scheduler.event_key(event_id))
    if event and event.status == 'scheduled' and tonumber(event.end_ts) > now then
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', scheduler.sessions_key(event_id),
                '(' .. now, '+inf')) do
            if redis.call('HGET', scheduler.session_key(id), 'status') == 'scheduled'
                and redis.call('HEXISTS', scheduler.plan_key, id) == 0 then
                redis.call('HSET', scheduler.plan_key, id, now)
                count = count + 1
            end
        end
    end
end
return schalt.answer(200, cjson.encode({sessions = count}))
