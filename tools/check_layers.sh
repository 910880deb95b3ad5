#!/bin/sh
# tools/check_layers.sh: the layer rule, checked on the sources (`make check-layers`).
#
#   core/     primitives and the store: includes only core/ headers, never Lua's.
#   sandbox/  the Lua boundary: includes sandbox/ and core/ headers, and Lua's.
#   app/      the program: includes app/, sandbox/ and core/ headers, but no Lua
#             header and no sandbox header that pulls one in (those are the
#             binding layer's own).
# Lua's headers appear nowhere else but in the sandbox's own tests
# (tests/sandbox/) and its benchmark (bench/bench_sandbox.c), which drive a
# lua_State directly. Prints one line per broken include, FILE:LINE: why, and
# ends "N passed, N failed" (files) like every part of the suite; exit 1 on any.
cd "$(dirname "$0")/.." || exit 2
LUA_HDRS='lua\.h|lauxlib\.h|lualib\.h|luajit\.h|luaconf\.h|lua\.hpp'

# Sandbox headers that include a Lua header (directly or through lcompat.h).
internal=$(grep -lE "#include [<\"]($LUA_HDRS|lcompat\.h)[>\"]" sandbox/*.h 2>/dev/null |
    sed 's|sandbox/||' | tr '\n' ' ')

awk -v internal=" $internal " -v luare="^($LUA_HDRS)$" '
function layer_of(path) {
    if (path ~ /^core\//) return "core"
    if (path ~ /^sandbox\//) return "sandbox"
    if (path ~ /^app\//) return "app"
    return "other"
}
function exists(p,   line, r) {
    if (p in seen) return seen[p]
    r = (getline line < p) >= 0
    close(p)
    seen[p] = r
    return r
}
function bad(why) { printf "%s:%d: %s\n", FILENAME, FNR, why; if (!(FILENAME in badfile)) { badfile[FILENAME] = 1; fails++ } }
FNR == 1 { files++; lay = layer_of(FILENAME); luaok = (lay == "sandbox" || FILENAME ~ /^tests\/sandbox\// || FILENAME ~ /^bench\/bench_sandbox\.c$/) }
/^[ \t]*#[ \t]*include[ \t]*[<"]/ {
    line = $0
    sys = line ~ /#[ \t]*include[ \t]*</
    sub(/^[^<"]*[<"]/, "", line)
    sub(/[>"].*$/, "", line)
    name = line
    if (name ~ luare && !luaok) { bad("includes Lua header <" name "> outside sandbox/"); next }
    if (sys) next
    if (lay == "core" && !exists("core/" name)) {
        if (exists("sandbox/" name)) bad("core/ includes sandbox/" name)
        else if (exists("app/" name)) bad("core/ includes app/" name)
    } else if (lay == "sandbox" && !exists("sandbox/" name) && !exists("core/" name)) {
        if (exists("app/" name)) bad("sandbox/ includes app/" name)
    } else if (lay == "app" && !exists("app/" name) && exists("sandbox/" name) && index(internal, " " name " ")) {
        bad("app/ includes " name ", a sandbox-internal header that pulls in Lua")
    } else if (lay == "app" && name == "lcompat.h") {
        bad("app/ includes lcompat.h (Lua)")
    }
}
END {
    printf "layers: %d passed, %d failed\n", files - fails, fails
    exit fails > 0
}
' core/*.[ch] sandbox/*.[ch] app/*.[ch] tests/unit/*.c tests/sandbox/*.c tests/*.c tests/*.h bench/*.c
