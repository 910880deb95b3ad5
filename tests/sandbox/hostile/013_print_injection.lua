-- hostile: write a forged JSON result straight to stdout with print
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment (print absent)
print('{"injected": true}')
