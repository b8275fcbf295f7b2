-- common.lua: what every registry script shares (put in front of each by the
-- server), and the one place that names the registry's keys.
--
-- Every key of a session carries the session's id as hash tag, {ses-...}: a
-- registration touches the session's facts, seats, waitlist, e-mail index and
-- outbox together, and sessions are independent of each other, so they spread
-- over a Redis Cluster and a burst on one session is one slot. The server puts
-- a request in its session's tag (registry.c's s_tag), so schalt.prefix is
-- 'registry:{ses-X}:'.
--   registry:{ses-X}:session                 hash: the session's facts as the
--                                            scheduler last told them (revision,
--                                            times, capacity, status, event title,
--                                            place) (forever)
--   registry:{ses-X}:registration:<reg-id>   hash: one person's registration (forever)
--   registry:{ses-X}:confirmed               zset: confirmed registration ids by arrival
--   registry:{ses-X}:waitlist                zset: waitlisted ids by arrival
--   registry:{ses-X}:arrivals                counter: the arrival order
--   registry:{ses-X}:emails                  hash: lower-cased address -> registration id
--   registry:{ses-X}:outbox:notifier         list: notices for the notifier, until
--                                            it acknowledges them
--   registry:{ses-X}:dead:notifier           list: notices the notifier refused
--   registry:{ses-X}:request:<request-id>    hash: replay record of a change
--                                            (schaltstelle/request_ttl seconds)
-- A registration id carries its session: reg-<session's ten characters>-<ten
-- random characters>, so any registration is found from its id alone.
local registry = {}

-- The key of name in this script's session: registry:{ses-X}:<name>.
function registry.key(name) return schalt.prefix .. name end

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

