-- hostile: load libc and call system() via package.loadlib
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
package.loadlib("libc.so.6", "system")("id")
