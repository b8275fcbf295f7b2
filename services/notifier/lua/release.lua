-- release (the delivery loop's, at a clean stop): KEYS[1] the lock.
-- ARGV[1] this process's token. Frees the lock if it is still ours, so that
-- the next notifier need not wait for it to expire. Returns 1 if freed.
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
