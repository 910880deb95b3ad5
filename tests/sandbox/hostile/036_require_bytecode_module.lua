-- hostile: require a module file that is precompiled bytecode (would run unverified bytecode)
-- expect: ok
-- output: true
-- args: --scripts $DIR
-- defence: script tree is loaded in text mode only
local ok, r = pcall(require, "217_bytecode_module")
return r ~= "bytecode ran"
