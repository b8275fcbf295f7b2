-- notice.list (reads only): the body's state, to (an address) and limit (the
-- most to return, 100 unless it says). Newest change first.
--
-- It reads the smallest index that holds the answer: the address's (then
-- the state is a filter), else the state's, else all (scored by last change
-- of state, or of outcome for all and to:, see notifier.move).
local request = schalt.body()
local limit = request.limit or 100
local index, filter = notifier.all_key, ''
if request.to then
    index, filter = notifier.to_key(request.to), request.state or ''
elseif request.state then
    index = notifier.state_key(request.state)
end
local chunk = filter == '' and limit or 200
local notices = {}
local start = 0
while #notices < limit do
    local ids = redis.call('ZREVRANGE', index, start, start + chunk - 1)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
        local notice = schalt.load(notifier.notice_key(id))
        if notice and (filter == '' or notice.state == filter) and #notices < limit then
            notices[#notices + 1] = notifier.view(notice)
        end
    end
    start = start + chunk
end
return {200, notifier.encode({notices = notices})}
