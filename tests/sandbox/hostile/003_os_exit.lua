-- hostile: kill the host with os.exit(0), which would also fake a clean exit
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
os.exit(0)
