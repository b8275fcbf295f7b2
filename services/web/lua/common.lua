-- common.lua: what every script of schalt-web's own service shares (put in
-- front of each by the server), and the one place that names its keys.
--
-- The web front owns only what is its own: the organisers' accounts and
-- their logins to the dashboard. They are few and belong together, so they
-- share one hash tag, {users}, and schalt.prefix is 'web:{users}:'.
--   web:{users}:users                 set: every account's name
--   web:{users}:user:<name>           hash: name, role (organiser|admin), hash (the
--                                     password's Argon2id hash, crypto_pwhash_str),
--                                     created
--   web:{users}:failures:<name>       counter: failed logins of the last 15 minutes
--                                     (expires 15 minutes after the last); at 10 the
--                                     account is locked until it expires or an admin
--                                     unlocks it
--   web:{users}:login:<digest>        hash: user, role, created; one login, under the
--                                     SHA-256 of its cookie (the cookie itself is never
--                                     stored); expires after web/login_hours
--   web:{users}:logins:<name>         set: the digests of an account's logins, so that
--                                     removing the account ends them
-- No key holds a participant's data: that is the registry's.
local web = {}
web.failures_allowed = 10
web.failures_window = 900

function web.user_key(name) return schalt.prefix .. 'user:' .. name end
function web.users_key() return schalt.prefix .. 'users' end
function web.failures_key(name) return schalt.prefix .. 'failures:' .. name end
function web.login_key(digest) return schalt.prefix .. 'login:' .. digest end
function web.logins_key(name) return schalt.prefix .. 'logins:' .. name end

-- Whether the account is locked by failed logins, and its count.
function web.locked(name)
    local failures = tonumber(redis.call('GET', web.failures_key(name)) or '0')
    return failures >= web.failures_allowed, failures
end

-- The account of the body's name for a script that changes it: the account,
-- or nil and the remembered 404 to return.
function web.account()
    local name = schalt.body().name
    local user = schalt.load(web.user_key(name))
    if not user then
        return nil, schalt.fail(404, 'not_found', '/name', 'no account ' .. name)
    end
    return user
end

-- The reply's view of an account (never its hash).
function web.view(user)
    local locked = web.locked(user.name)
    return {name = user.name, role = user.role, created = user.created, locked = locked}
end
