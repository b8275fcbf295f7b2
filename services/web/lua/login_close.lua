-- login.close (changes): logging out, {login}: the login ends at once.
local replayed = schalt.replay()
if replayed then return replayed end
local digest = schalt.body().login
local login = schalt.load(web.login_key(digest))
if login then
    redis.call('DEL', web.login_key(digest))
    redis.call('SREM', web.logins_key(login.user), digest)
end
return schalt.answer(200, cjson.encode({closed = login ~= nil}))
