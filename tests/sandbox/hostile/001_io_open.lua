-- hostile: read /etc/passwd through io.open; io must not exist
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
return io.open("/etc/passwd"):read("a")
