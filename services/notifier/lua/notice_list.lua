-- notice.list (reads only): KEYS[1] the index to read (state:<state>,
-- to:<address> or all; scored by last change of state, or of
-- outcome for all and to:, see notifier.move). ARGV[1] the state to keep
-- ('' keeps all), ARGV[2] the most to return. Newest change first.
local limit = tonumber(ARGV[2])
local chunk = ARGV[1] == '' and limit or 200
local notices = {}
local start = 0
while #notices < limit do
    local ids = redis.call('ZREVRANGE', KEYS[1], start, start + chunk - 1)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
        local notice = schalt.load(notifier.notice_key(id))
        if notice and (ARGV[1] == '' or notice.state == ARGV[1]) and #notices < limit then
            notices[#notices + 1] = notifier.view(notice)
        end
    end
    start = start + chunk
end
return {200, notifier.encode({notices = notices})}
