-- login.open (changes): the outcome of a login, {name, passed, login}. A
-- failed one (a wrong password, or an unknown name) counts against the name:
-- the tenth within 15 minutes locks it for 15 minutes (423 locked), and a
-- locked name is refused whatever the password. A passed one opens a login
-- under login, the SHA-256 of its cookie, for ARGV[5] seconds.
local replayed = schalt.replay()
if replayed then return replayed end
local body = schalt.body()
local name = body.name
local locked, failures = web.locked(name)
if locked then
    return schalt.fail(423, 'locked', '/name',
        'too many failed logins: locked for 15 minutes (or until an admin unlocks it)')
end
local user = schalt.load(web.user_key(name))
if not body.passed or not user then
    failures = redis.call('INCR', web.failures_key(name))
    redis.call('EXPIRE', web.failures_key(name), web.failures_window)
    if failures >= web.failures_allowed then
        return schalt.fail(423, 'locked', '/name',
            'too many failed logins: locked for 15 minutes (or until an admin unlocks it)')
    end
    return schalt.fail(401, 'wrong_password', '/password',
        'the name or the password is wrong (' .. (web.failures_allowed - failures)
        .. ' attempts left)')
end
redis.call('DEL', web.failures_key(name))
local seconds = tonumber(ARGV[5])
schalt.store(web.login_key(body.login), {user = name, role = user.role, created = schalt.now()})
redis.call('EXPIRE', web.login_key(body.login), seconds)
redis.call('SADD', web.logins_key(name), body.login)
-- digests of expired logins leave the account's set as it is read here
for _, digest in ipairs(redis.call('SMEMBERS', web.logins_key(name))) do
    if redis.call('EXISTS', web.login_key(digest)) == 0 then
        redis.call('SREM', web.logins_key(name), digest)
    end
end
return schalt.answer(201, cjson.encode({name = name, role = user.role}))
