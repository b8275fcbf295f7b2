-- notice.get (reads only): KEYS[1] the notice. ARGV[1] its id.
local notice = schalt.load(KEYS[1])
if not notice then
    return schalt.error(404, 'not_found', '/id', 'no notice ' .. ARGV[1])
end
return {200, notifier.encode({notice = notifier.view(notice)})}
