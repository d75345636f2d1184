-- wrk script: send 16 pipelined GETs of the script argument (default /hello.txt) per write.
local depth = 16

init = function(args)
   local path = args[1] or "/hello.txt"
   local reqs = {}
   for i = 1, depth do
      reqs[i] = wrk.format("GET", path)
   end
   batch = table.concat(reqs)
end

request = function()
   return batch
end
