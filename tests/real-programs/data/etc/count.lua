-- Counts the lines and words of the file named by arg[1], then runs a
-- shell pipeline through io.popen and os.execute.
local lines, words = 0, 0
for line in io.lines(arg[1]) do
  lines = lines + 1
  for _ in line:gmatch("%S+") do words = words + 1 end
end
print(string.format("%s: %d lines, %d words", arg[1], lines, words))
local p = io.popen("echo from a child shell")
print("popen read: " .. p:read("l"))
print("popen close:", p:close())
print("execute:", os.execute("exit 3"))
