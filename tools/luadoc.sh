#!/bin/sh
# tools/luadoc.sh [--check]: the script API reference, from the /*** blocks of
# the binding files (sandbox/lb_*.c, and sandbox/rulec.c for the regulation
# language's tables), as a LuaLS meta file: scripts/types/tm.lua.
#
#   sh tools/luadoc.sh          writes scripts/types/tm.lua (`make luadoc`)
#   sh tools/luadoc.sh --check  writes nothing; fails (exit 1) when a function
#                               registered in a binding has no block (or its
#                               block names it otherwise), a block lacks a
#                               @param or @return, scripts/types/tm.lua is
#                               not what the blocks give, strategies.md does
#                               not mention a registered function, or its
#                               table of contents misses a section. Prints one
#                               line per problem, FILE:LINE: why, and ends
#                               "luadoc: N passed, N failed" (`make test`).
#
# A block sits right above the C function it documents (or anywhere, for a
# class or a function written in Lua):
#
#   /***
#    * @function tm.money.format(minor, currency)     NAME(a, b [, c]) or NAME{...}
#    * What it does (any number of lines).
#    * @param minor {integer} the amount in minor units   one per parameter;
#    * @param currency {string} ISO 4217 code              {T?}: may be nil
#    * @field total {integer} ...        NAME{...} only: the fields of its table
#    * @return {string} "1,234.56 USD"   one or more; {A, B} for two values
#    */
#   /***
#    * @class tm.Regulation
#    * What the table is.
#    * @field id {string} ...
#    */
#
# Lines indented further than the tag continue it. Types are LuaLS types.
# Which functions are registered is read from the sources too: the
# tm_sandbox_add_library / tm_sandbox_add_global calls, the luaL_Reg arrays
# and the lua_pushcfunction of the openers they name.
# POSIX sh and awk only (mawk is enough).
cd "$(dirname "$0")/.." || exit 2
LC_ALL=C # the same order of names whatever the locale
export LC_ALL
OUT=scripts/types/tm.lua
DOC=strategies.md
mode=gen
case "${1:-}" in
    --check) mode=check ;;
    "") ;;
    *) echo "usage: sh tools/luadoc.sh [--check]" >&2; exit 2 ;;
esac

prog='
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function err(where, why) { printf "%s: %s\n", where, why > "/dev/stderr"; fails++ }

# The text of a {...} at the start of s (nesting counted) into TYPE, the rest
# into REST; 0 when s does not start with "{".
function braced(s,   i, d, c) {
    s = trim(s)
    if (substr(s, 1, 1) != "{") { TYPE = ""; REST = s; return 0 }
    d = 0
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "{") d++
        else if (c == "}") { d--; if (d == 0) break }
    }
    TYPE = substr(s, 2, i - 2)
    REST = trim(substr(s, i + 1))
    return 1
}

# Splits t at commas outside (), <>, {} into PART[1..n]; returns n.
function split_top(t,   i, c, d, n, cur) {
    n = 0; d = 0; cur = ""
    for (i = 1; i <= length(t); i++) {
        c = substr(t, i, 1)
        if (c == "(" || c == "<" || c == "{") d++
        else if (c == ")" || c == ">" || c == "}") d--
        if (c == "," && d == 0) { PART[++n] = trim(cur); cur = ""; continue }
        cur = cur c
    }
    if (trim(cur) != "") PART[++n] = trim(cur)
    return n
}

function sort_idx(arr, n,   i, j, t) {
    for (i = 2; i <= n; i++) {
        t = arr[i]
        for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]
        arr[j + 1] = t
    }
}

function is_def(line) {
    return line ~ /^[A-Za-z_]/ && line ~ /\(/ && line !~ /;[ \t]*$/ && line !~ /^(typedef|struct|enum|static const|#)/
}

FNR == 1 { cur = ""; inblock = 0; pending = 0; inarr = ""; infile++ }

# ---- doc blocks
/^\/\*\*\*[ \t]*$/ { inblock = 1; nb++; bfile[nb] = FILENAME; bline[nb] = FNR; blen[nb] = 0; next }
inblock && /^ \*\/[ \t]*$/ { inblock = 0; pending = nb; next }
inblock { l = $0; sub(/^ \*/, "", l); blen[nb]++; btext[nb, blen[nb]] = l; next }

# ---- function definitions, openers, arrays, registrations
{
    if (pending && is_def($0) && $0 ~ /\(lua_State \*L\)/) {
        name = $0; sub(/\(.*/, "", name); k = split(name, w, /[ \t*]+/); name = w[k]
        docfn[name] = pending
    }
    if ($0 !~ /^[ \t]*$/) pending = 0
}
is_def($0) {
    name = $0; sub(/\(.*/, "", name); k = split(name, w, /[ \t*]+/); name = w[k]
    cur = ($0 ~ /\(lua_State \*L\)/) ? name : ""
    if (cur != "") defat[cur] = FILENAME ":" FNR
}
/^}/ { cur = "" }
cur != "" && /luaL_setfuncs\(L, [A-Za-z_0-9]+/ {
    s = $0; sub(/.*luaL_setfuncs\(L, /, "", s); sub(/[^A-Za-z_0-9].*/, "", s); opener_arr[cur] = s
}
cur != "" && /lua_pushcfunction\(L, [A-Za-z_0-9]+\)/ {
    s = $0; sub(/.*lua_pushcfunction\(L, /, "", s); sub(/\).*/, "", s)
    if (!(cur in opener_fn)) opener_fn[cur] = s
}
/^static const luaL_Reg [A-Za-z_0-9]+\[\] = \{/ {
    s = $0; sub(/^static const luaL_Reg /, "", s); sub(/\[.*/, "", s); inarr = s; next
}
inarr != "" {
    if ($0 ~ /^\};/) { inarr = ""; next }
    s = $0
    while (match(s, /\{"[^"]+", *[A-Za-z_0-9]+\}/)) {
        e = substr(s, RSTART + 2, RLENGTH - 3); s = substr(s, RSTART + RLENGTH)
        key = e; sub(/".*/, "", key); fn = e; sub(/.*, */, "", fn)
        na[inarr]++; akey[inarr, na[inarr]] = key; afn[inarr, na[inarr]] = fn
    }
}
/tm_sandbox_add_(library|global)\("/ {
    s = $0; kind = (s ~ /add_library/) ? "library" : "global"
    sub(/.*tm_sandbox_add_(library|global)\("/, "", s)
    rn = s; sub(/".*/, "", rn); op = s; sub(/^[^,]*, */, "", op); sub(/\).*/, "", op)
    nreg++; rkind[nreg] = kind; rname[nreg] = rn; ropen[nreg] = op; rwhere[nreg] = FILENAME ":" FNR
}

# ---- reading the blocks
function parse_block(b,   i, l, tag, rest, nm, t) {
    bkind[b] = ""; bname[b] = ""; bdesc[b] = ""; np[b] = 0; nf[b] = 0; nret[b] = 0; bsig[b] = ""
    tag = ""
    for (i = 1; i <= blen[b]; i++) {
        l = btext[b, i]
        if (l ~ /^ @[a-z]+/) {
            tag = trim(l); rest = tag; sub(/^@[a-z]+[ \t]*/, "", rest); sub(/[ \t].*/, "", tag)
            if (tag == "@function") { bkind[b] = "function"; bsig[b] = rest }
            else if (tag == "@class") { bkind[b] = "class"; bname[b] = trim(rest) }
            else if (tag == "@param" || tag == "@field") {
                nm = rest; sub(/[ \t].*/, "", nm); rest = substr(rest, length(nm) + 1)
                braced(rest)
                if (tag == "@param") { np[b]++; pname[b, np[b]] = nm; ptype[b, np[b]] = TYPE; pdesc[b, np[b]] = REST }
                else { nf[b]++; fname[b, nf[b]] = nm; ftype[b, nf[b]] = TYPE; fdesc[b, nf[b]] = REST }
            } else if (tag == "@return") {
                braced(rest); nret[b]++; rtype[b, nret[b]] = TYPE; rdesc[b, nret[b]] = REST
            } else err(bfile[b] ":" bline[b], "unknown tag " tag)
        } else if (l ~ /^   / && tag != "") {
            t = trim(l)
            if (tag == "@function") bsig[b] = bsig[b] " " t
            else if (tag == "@param") pdesc[b, np[b]] = pdesc[b, np[b]] " " t
            else if (tag == "@field") fdesc[b, nf[b]] = fdesc[b, nf[b]] " " t
            else if (tag == "@return") rdesc[b, nret[b]] = rdesc[b, nret[b]] " " t
        } else if (trim(l) != "") {
            tag = ""
            bdesc[b] = bdesc[b] (bdesc[b] == "" ? "" : "\n") trim(l)
        }
    }
    if (bkind[b] == "function") parse_sig(b)
}

# The signature: bname, and sargs[b, 1..nsa] with sopt (after a "[").
function parse_sig(b,   s, i, n, inner, opt, a) {
    s = trim(bsig[b]); nsa[b] = 0; btable[b] = 0
    if (match(s, /[({]/) == 0) { bname[b] = s; return }
    bname[b] = substr(s, 1, RSTART - 1)
    if (substr(s, RSTART, 1) == "{") { btable[b] = 1; nsa[b] = 1; sarg[b, 1] = "args"; sopt[b, 1] = 0; return }
    inner = substr(s, RSTART + 1); sub(/\)[^)]*$/, "", inner)
    n = split(inner, parts, ",")
    # "a, b [, c [, d]]": a "[" before a name makes it optional, and every
    # name after a "[" too.
    opt = 0
    for (i = 1; i <= n; i++) {
        a = trim(parts[i])
        if (a ~ /^\[/) opt = 1
        more = (a ~ /^\[?[^[]+\[/)
        gsub(/[][ \t]/, "", a)
        if (a != "") { nsa[b]++; sarg[b, nsa[b]] = a; sopt[b, nsa[b]] = opt }
        if (more) opt = 1
    }
}

# A type that may be nil ("T?" or "A|B|nil") as LuaLS writes it on an
# optional name (OPTQ set), so a table may leave the field out.
function opt_type(t) {
    OPTQ = 0
    if (t ~ /\?$/) { OPTQ = 1; t = substr(t, 1, length(t) - 1) }
    else if (t ~ /\|nil$/) { OPTQ = 1; t = substr(t, 1, length(t) - 4) }
    return t
}
# " desc" after a type; " # desc" after a function type, whose return list
# would otherwise run on into the words.
function described(t, d) { return d == "" ? "" : (t ~ /fun\(/ ? " # " d : " " d) }
function oneline(s) { gsub(/\n/, " ", s); return trim(s) }

function emit_desc(s,   n, i, ls) {
    if (s == "") return
    n = split(s, ls, "\n")
    for (i = 1; i <= n; i++) print "--- " ls[i]
}

function emit_class(b,   i, t, d) {
    print ""
    emit_desc(bdesc[b])
    print "---@class " bname[b]
    for (i = 1; i <= nf[b]; i++) {
        t = opt_type(ftype[b, i]); d = oneline(fdesc[b, i])
        print "---@field " fname[b, i] (OPTQ ? "?" : "") " " t described(t, d)
    }
}

function emit_function(b,   i, k, t, d, n, args, cls) {
    print ""
    if (btable[b]) {
        cls = bname[b] ".args"
        print "---@class " cls
        for (i = 1; i <= nf[b]; i++) {
            t = opt_type(ftype[b, i]); d = oneline(fdesc[b, i])
            print "---@field " fname[b, i] (OPTQ ? "?" : "") " " t described(t, d)
        }
        print ""
    }
    emit_desc(bdesc[b])
    args = ""
    for (i = 1; i <= nsa[b]; i++) {
        args = args (i > 1 ? ", " : "") sarg[b, i]
        if (btable[b]) { print "---@param args " cls; continue }
        for (k = 1; k <= np[b]; k++) if (pname[b, k] == sarg[b, i]) break
        t = k <= np[b] ? ptype[b, k] : "any"; d = k <= np[b] ? oneline(pdesc[b, k]) : ""
        t = opt_type(t)
        if (sarg[b, i] == "...") print "---@param ... " t described(t, d)
        else print "---@param " sarg[b, i] ((OPTQ || sopt[b, i]) ? "?" : "") " " t described(t, d)
    }
    for (i = 1; i <= nret[b]; i++) {
        n = split_top(rtype[b, i]); d = oneline(rdesc[b, i])
        for (k = 1; k <= n; k++) print "---@return " PART[k] ((k == 1 && d != "") ? " # " d : "")
    }
    print "function " bname[b] "(" args ") end"
}

END {
    for (b = 1; b <= nb; b++) parse_block(b)
    # What scripts can call: registered name -> C function.
    for (r = 1; r <= nreg; r++) {
        pre = rkind[r] == "library" ? "tm." rname[r] : rname[r]
        op = ropen[r]
        if (op in opener_arr) {
            arr = opener_arr[op]
            for (i = 1; i <= na[arr]; i++) { regfn[pre "." akey[arr, i]] = afn[arr, i]; regat[pre "." akey[arr, i]] = rwhere[r] }
        } else if (op in opener_fn) { regfn[pre] = opener_fn[op]; regat[pre] = rwhere[r] }
        else err(rwhere[r], "cannot tell what " op " registers as " pre)
    }
    checks = 0
    for (N in regfn) {
        checks++
        F = regfn[N]
        if (!(F in docfn)) { err((F in defat) ? defat[F] : regat[N], N " (" F ") is registered but has no /*** block above it"); continue }
        b = docfn[F]
        if (bname[b] != N) err(bfile[b] ":" bline[b], "the block above " F " says @function " bname[b] ", but scripts call it " N)
        documented[N] = 1
    }
    nfun = 0; ncls = 0
    for (b = 1; b <= nb; b++) {
        if (bkind[b] == "class") { cls_list[++ncls] = bname[b] SUBSEP b; continue }
        if (bkind[b] != "function") { err(bfile[b] ":" bline[b], "a block with neither @function nor @class"); continue }
        # Blocks of the standard library replacements (utf8.*) are not the tm API.
        if (bfile[b] !~ /sandbox\/(lb_[a-z_]+|rulec)\.c$/) continue
        checks++
        fun_list[++nfun] = bname[b] SUBSEP b
        if (nret[b] == 0) err(bfile[b] ":" bline[b], bname[b] ": no @return")
        if (btable[b] && nf[b] == 0) err(bfile[b] ":" bline[b], bname[b] ": a table argument with no @field")
        for (i = 1; i <= nsa[b] && !btable[b]; i++) {
            for (k = 1; k <= np[b]; k++) if (pname[b, k] == sarg[b, i]) break
            if (k > np[b] && sarg[b, i] != "...") err(bfile[b] ":" bline[b], bname[b] ": parameter " sarg[b, i] " has no @param")
        }
        for (k = 1; k <= np[b]; k++) {
            for (i = 1; i <= nsa[b]; i++) if (pname[b, k] == sarg[b, i]) break
            if (i > nsa[b]) err(bfile[b] ":" bline[b], bname[b] ": @param " pname[b, k] " is not in the signature")
        }
        n = split(bname[b], seg, ".")
        p = seg[1]
        for (i = 2; i <= n; i++) { ns[p] = 1; p = p "." seg[i] }
        isfun[bname[b]] = 1
    }
    sort_idx(cls_list, ncls); sort_idx(fun_list, nfun)
    print "---@meta"
    print "-- scripts/types/tm.lua: what the tallyman sandbox gives scripts (tm.*, the"
    print "-- regulation and journey languages, spec helpers), for lua-language-server."
    print "-- Written by tools/luadoc.sh from the /*** blocks of sandbox/lb_*.c and"
    print "-- sandbox/rulec.c: do not edit; change the block and run `make luadoc`."
    print "-- `make test` fails when this file is stale. The engine never runs it."
    for (i = 1; i <= ncls; i++) { split(cls_list[i], pr, SUBSEP); emit_class(pr[2]) }
    print ""
    nns = 0
    for (p in ns) if (!(p in isfun)) ns_list[++nns] = p
    sort_idx(ns_list, nns)
    for (i = 1; i <= nns; i++) print ns_list[i] " = {}"
    for (i = 1; i <= nfun; i++) { split(fun_list[i], pr, SUBSEP); emit_function(pr[2]) }
    if (mode == "check") {
        # strategies.md: every registered function named, every section in the contents.
        doc = ""; fence = 0; nh = 0
        while ((getline l < docfile) > 0) {
            doc = doc l "\n"
            if (l ~ /^```/) { fence = !fence; continue }
            if (!fence && l ~ /^###? /) { nh++; head[nh] = l; headat[nh] = docfile ":" NR }
        }
        for (N in regfn) {
            checks++
            # Named in text (`tm.x.y`, `days(n)`, `regulation { ... }`) or called in an example.
            if (!index(doc, "`" N "`") && !index(doc, "`" N " ") && !index(doc, N "(") && !index(doc, N "{"))
                err(docfile, N " is registered but strategies.md does not document it")
        }
        for (i = 1; i <= nh; i++) {
            checks++
            t = head[i]; sub(/^#+ /, "", t); slug = tolower(t)
            gsub(/[^a-z0-9 _-]/, "", slug); gsub(/ /, "-", slug)
            if (!index(doc, "](#" slug ")")) err(docfile, "the contents lack the section \"" t "\" (#" slug ")")
        }
        printf "luadoc: %d passed, %d failed\n", checks - fails, fails > "/dev/stderr"
    }
    exit fails > 0
}
'

SRC=$(ls sandbox/lb_*.c sandbox/rulec.c)
if [ "$mode" = gen ]; then
    mkdir -p "$(dirname "$OUT")"
    awk -v mode=gen -v docfile="$DOC" "$prog" $SRC >"$OUT.tmp" || { rm -f "$OUT.tmp"; exit 1; }
    mv "$OUT.tmp" "$OUT"
    exit 0
fi
tmp=$(mktemp "${TMPDIR:-/tmp}/luadoc.XXXXXX")
trap 'rm -f "$tmp" "$tmp.err"' EXIT
awk -v mode=check -v docfile="$DOC" "$prog" $SRC >"$tmp" 2>"$tmp.err"
rc=$?
line=$(grep -E '^luadoc: [0-9]+ passed' "$tmp.err")
grep -vE '^luadoc: [0-9]+ passed' "$tmp.err"
p=$(printf '%s' "$line" | sed -E 's/^luadoc: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
f=$(printf '%s' "$line" | sed -E 's/^luadoc: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
[ -n "$p" ] || { p=0; f=1; }
if cmp -s "$tmp" "$OUT"; then
    p=$((p + 1))
else
    echo "$OUT: stale (not what the /*** blocks give): run make luadoc"
    diff -u "$OUT" "$tmp" 2>/dev/null | head -n 20
    f=$((f + 1))
fi
echo "luadoc: $p passed, $f failed"
[ "$f" -eq 0 ] && [ "$rc" -eq 0 ]
