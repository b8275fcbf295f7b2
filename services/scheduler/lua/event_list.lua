-- event.list (reads only): ARGV[5] from (UTC seconds, events ending after it),
-- ARGV[6] to (starting before it); the body's include_cancelled.
local from = tonumber(ARGV[5])
local all = schalt.body().include_cancelled == true
local events = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', scheduler.index_key, '-inf', '(' .. ARGV[6])) do
    local event = schalt.load(scheduler.event_key(id))
    if event and tonumber(event.end_ts) > from and (all or event.status == 'scheduled') then
        events[#events + 1] = scheduler.event_view(event)
    end
end
return {200, scheduler.encode({events = events})}
