-- user.remove (changes): deletes an account and ends its logins.
local replayed = schalt.replay()
if replayed then return replayed end
local user, refused = web.account()
if not user then return refused end
local name = user.name
for _, digest in ipairs(redis.call('SMEMBERS', web.logins_key(name))) do
    redis.call('DEL', web.login_key(digest))
end
redis.call('DEL', web.user_key(name), web.logins_key(name), web.failures_key(name))
redis.call('SREM', web.users_key(), name)
return schalt.answer(200, cjson.encode({user = {name = name, role = user.role,
    created = user.created, locked = false}}))
