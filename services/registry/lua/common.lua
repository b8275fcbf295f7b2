-- common.lua: what every registry script shares (put in front of each by the store).
-- Every key of a session carries the session's id as hash tag, {ses-...}: a
-- registration touches the session's facts, seats, waitlist, e-mail index and
-- outbox together, and sessions are independent of each other, so they spread
-- over a Redis Cluster and a burst on one session is one slot.
local registry = {}

function registry.prefix(session_id) return 'registry:{' .. session_id .. '}:' end

-- Fields of a registration as clients see them, in order.
local registration_fields = {'id', 'session', 'name', 'email', 'institution', 'language', 'status',
    'created'}

-- A registration as clients see it, with its waitlist position if waitlisted
-- (position, when the caller knows it, saves looking it up).
function registry.view(registration, prefix, position)
    local view = {}
    for _, name in ipairs(registration_fields) do
        if registration[name] and registration[name] ~= '' then view[name] = registration[name] end
    end
    if registration.status == 'waitlisted' and position then
        view.position = position
    elseif registration.status == 'waitlisted' then
        local rank = redis.call('ZRANK', prefix .. 'waitlist', registration.id)
        if rank then view.position = rank + 1 end
    end
    return view
end

