-- hostile: run a shell command with os.execute
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
os.execute("touch /tmp/tallyman_hostile_pwned")
return "executed"
