-- event.list (reads only): KEYS[1] the index of events by start.
-- ARGV[1] from (UTC seconds, events ending after it), ARGV[2] to (starting
-- before it), ARGV[3] '1' to include cancelled events.
local from, to = tonumber(ARGV[1]), tonumber(ARGV[2])
local events = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])) do
    local event = schalt.load(scheduler.event_key(id))
    if event and tonumber(event.end_ts) > from and (ARGV[3] == '1' or event.status == 'scheduled') then
        events[#events + 1] = scheduler.event_view(event)
    end
end
return {200, scheduler.encode({events = events})}
