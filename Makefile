# tallyman: build, test, demo, bench, install.
#
#   make              build ./tallyman (installs missing Debian packages first)
#   make demo         build and run the main job on the embedded store
#   make test         the whole suite; last line "N passed, N failed"
#   make test-clock   the whole suite with the clock a year ahead, then a year back
#   make asan         the suite under AddressSanitizer + UBSan
#   make bench        benchmarks (print figures, assert nothing)
#   make soak         the service under load for SOAK_SECONDS (600): its memory at start and end
#   make fuzz         libFuzzer over the service's request decoding (clang; FUZZ_SECONDS each)
#   make luadoc       rewrite scripts/types/tm.lua, the script API for editors
#   make LUA=luajit   build against LuaJIT 2.1 instead of Lua 5.4
#   make install PREFIX=/usr/local
#
# Objects go to build/<variant>/ so Lua 5.4, LuaJIT and sanitizer builds can
# live side by side. Flags come from pkg-config through build/config.mk, which
# is generated after tools/deps.sh has made sure the packages exist.

LUA        ?= lua5.4
PREFIX     ?= /usr/local
PKG_CONFIG ?= pkg-config
CC         ?= cc

ifeq ($(LUA),luajit)
LUA_PC      = luajit
LUA_DEFS    = -DTM_LUAJIT=1
VARIANT     = luajit
else
LUA_PC      = lua5.4
LUA_DEFS    =
VARIANT     = lua54
endif
ifdef SAN
VARIANT    := $(VARIANT)-san
SANFLAGS    = -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer -g
endif
# `make fuzz`: everything built by clang with coverage for libFuzzer, under
# AddressSanitizer and UBSan, in its own build directory.
ifdef FUZZ
CC          = clang
VARIANT    := $(VARIANT)-fuzz
# clang warns where gcc does not: shown, not fatal, in this build only.
SANFLAGS    = -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -g -Wno-error
endif

# Lua's headers are given to sandbox/ (and its tests) only: core/ and app/ are
# compiled without them, so a Lua include outside the boundary does not build.
PKGS_C      = sqlite3 libevent libevent_openssl jansson openssl libpq libargon2
PKGS        = $(LUA_PC) $(PKGS_C)
B           = build/$(VARIANT)
OUT_BIN     = $(if $(filter lua54,$(VARIANT)),tallyman,$(B)/tallyman)

WARN = -Wall -Wextra -Wshadow -Wundef -Wwrite-strings -Wstrict-prototypes \
       -Wmissing-prototypes -Wold-style-definition -Wdouble-promotion \
       -Wformat=2 -Wredundant-decls -Wvla -Werror
OPT        ?= -O2 -g
CFLAGS_BASE = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) $(WARN) \
              $(LUA_DEFS) $(SANFLAGS) -MMD -MP
# Each layer sees only itself and the layers below it (app -> sandbox -> core).
CFLAGS_CORE = $(CFLAGS_BASE) -Icore $(PKG_CFLAGS)
CFLAGS_SB   = $(CFLAGS_BASE) -Icore -Isandbox $(PKG_CFLAGS) $(LUA_CFLAGS)
CFLAGS_APP  = $(CFLAGS_BASE) -Icore -Isandbox -Iapp $(PKG_CFLAGS)
# Tests and benchmarks may reach every layer (tests/sandbox and the sandbox
# benchmark drive a lua_State directly).
CFLAGS_ALL  = $(CFLAGS_BASE) -Icore -Isandbox -Iapp $(PKG_CFLAGS) $(LUA_CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) -pthread
LDLIBS_ALL  = $(PKG_LIBS) -lm

CORE_SRC    = $(wildcard core/*.c)
SB_SRC      = $(wildcard sandbox/*.c)
APP_SRC     = $(filter-out app/main.c,$(wildcard app/*.c))
LIB_OBJ     = $(patsubst %.c,$(B)/%.o,$(CORE_SRC) $(SB_SRC) $(APP_SRC))
MAIN_OBJ    = $(B)/app/main.o
UNIT_SRC    = $(wildcard tests/unit/test_*.c tests/sandbox/test_*.c)
UNIT_BIN    = $(patsubst tests/%.c,$(B)/tests/%,$(UNIT_SRC))
BENCH_SRC   = $(wildcard bench/bench_*.c)
BENCH_BIN   = $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: soak fuzz all deps demo test test-clock test-unit test-pg bench-pg check-layers luadoc check-luadoc asan bench install clean lua54 luajit-test

all: $(OUT_BIN)

# Generated configuration: depends on the installed packages, not on sources.
$(B)/config.mk: tools/deps.sh Makefile
	@mkdir -p $(B)
	@sh tools/deps.sh
	@echo "PKG_CFLAGS = $$($(PKG_CONFIG) --cflags $(PKGS_C))" > $@.tmp
	@echo "LUA_CFLAGS = $$($(PKG_CONFIG) --cflags $(LUA_PC))" >> $@.tmp
	@echo "PKG_LIBS = $$($(PKG_CONFIG) --libs $(PKGS))" >> $@.tmp
	@mv $@.tmp $@
-include $(B)/config.mk

$(B)/core/%.o: core/%.c $(B)/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_CORE) -c $< -o $@

$(B)/sandbox/%.o: sandbox/%.c $(B)/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SB) -c $< -o $@

$(B)/app/%.o: app/%.c $(B)/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_APP) -c $< -o $@

$(B)/tests/%.o: tests/%.c $(B)/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -c $< -o $@

$(B)/libtm.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(OUT_BIN): $(MAIN_OBJ) $(B)/libtm.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(B)/tests/run.o: tests/run.c tests/harness.h $(B)/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -c $< -o $@

$(B)/tests/%: tests/%.c $(B)/tests/run.o $(B)/libtm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests $(LDFLAGS_ALL) $(TEST_LDFLAGS) -o $@ $< $(B)/tests/run.o $(B)/libtm.a $(LDLIBS_ALL)

# The out-of-memory test fails the Nth allocation of our own code: the
# allocator is wrapped at link time for that binary only.
$(B)/tests/unit/test_portfolio_oom: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
# The buffer's own test fails the Nth allocation too, and watches what free() gets back.
$(B)/tests/unit/test_buf: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=realloc,--wrap=free
# An audit export whose Nth allocation fails writes whole records or none.
$(B)/tests/unit/test_audit_oom: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=realloc
# The engine's start fails at a chosen step (a sandbox, a gate, the journeys).
$(B)/tests/unit/test_engine_fault: TEST_LDFLAGS = -Wl,--wrap=tm_sandbox_new,--wrap=tm_gate_new,--wrap=tm_journeys_load

$(B)/bench/%: bench/%.c $(B)/libtm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(B)/libtm.a $(LDLIBS_ALL)

# A tallyman whose store fails on request (tests/fault.c, TM_STORE_FAULT=N:CODE),
# driven by the fault-injection tests; ./tallyman has no such switch.
FAULT_BIN   = $(B)/tests/tallyman-fault

$(FAULT_BIN): $(MAIN_OBJ) $(B)/tests/fault.o $(B)/libtm.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

test-unit: $(OUT_BIN) $(UNIT_BIN) $(FAULT_BIN)

# The layer rule (core/ <- sandbox/ <- app/, Lua headers only in sandbox/),
# checked on the sources themselves, whatever the include paths would allow;
# `make test` runs it as the first part of the suite.
check-layers:
	@sh tools/check_layers.sh

# The script API reference for editors (lua-language-server), written from the
# /*** blocks of the binding files; `make test` runs check-luadoc, which fails
# when it is stale or a function scripts can call has no block.
luadoc:
	@sh tools/luadoc.sh

check-luadoc:
	@sh tools/luadoc.sh --check

# The whole suite: unit tests, sandbox and hostile corpus, end-to-end CLI tests,
# Lua specs; then the same under LuaJIT (skipped inside sanitizer runs).
test: test-unit
	@TM_BIN=$(abspath $(OUT_BIN)) TM_BUILD=$(abspath $(B)) TM_LUA=$(LUA) \
	    TM_LUAJIT_SUITE=$(if $(SAN),,$(if $(filter luajit,$(LUA)),,1)) sh tests/run_all.sh

# The whole suite under libfaketime, a year ahead and then a year back: no test may
# depend on today's date. The LuaJIT build is made first, on the real clock, so make
# inside the moved clock finds nothing to rebuild. Ends with one "N passed, N failed".
test-clock: test-unit
	@$(if $(SAN),,$(if $(filter luajit,$(LUA)),,$(MAKE) -s LUA=luajit test-unit))
	@TM_BIN=$(abspath $(OUT_BIN)) TM_BUILD=$(abspath $(B)) TM_LUA=$(LUA) \
	    TM_LUAJIT_SUITE=$(if $(SAN),,$(if $(filter luajit,$(LUA)),,1)) sh tests/run_clock.sh

# The store's unit tests and the SQLite-against-PostgreSQL end-to-end test on
# a throw-away PostgreSQL cluster (tests/run_pg.sh); `make test` runs it too.
test-pg: test-unit
	@TM_BIN=$(abspath $(OUT_BIN)) TM_BUILD=$(abspath $(B)) sh tests/run_pg.sh

luajit-build:
	$(MAKE) LUA=luajit test-unit

asan:
	$(MAKE) SAN=address,undefined OPT="-O1 -g" test

# The store on PostgreSQL next to SQLite (bench/bench_pg.sh; prints figures).
bench-pg: $(OUT_BIN)
	@TM_BIN=$(abspath $(OUT_BIN)) sh bench/bench_pg.sh

bench: $(OUT_BIN) $(BENCH_BIN)
	@TM_BIN=$(abspath $(OUT_BIN)) TM_BUILD=$(abspath $(B)) sh bench/run.sh

# `tallyman serve` under load for SOAK_SECONDS (default 600), printing its
# resident memory at the start and the end; not part of `make test`.
soak: $(OUT_BIN)
	@TM_BIN=$(abspath $(OUT_BIN)) sh bench/soak_serve.sh

# libFuzzer over the service's request decoding (tests/fuzz/), FUZZ_SECONDS each
# (default 60); not part of `make test`. Findings go to build/<variant>/fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_SRC     = $(wildcard tests/fuzz/fuzz_*.c)

fuzz:
	@$(MAKE) -s FUZZ=1 fuzz-run

fuzz-run: $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
	@for f in $^; do n=$$(basename $$f); mkdir -p $(B)/fuzz/$$n.corpus; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=$(B)/fuzz/ \
	      $(B)/fuzz/$$n.corpus tests/fuzz/corpus_$${n#fuzz_} || exit 1; done

$(B)/fuzz/%: tests/fuzz/%.c $(B)/libtm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(B)/libtm.a $(LDLIBS_ALL) -pthread

demo: $(OUT_BIN)
	@TM_BIN=$(abspath $(OUT_BIN)) sh examples/demo.sh

install: $(OUT_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tallyman
	install -m 0755 $(OUT_BIN) $(DESTDIR)$(PREFIX)/bin/tallyman
	cp -R scripts $(DESTDIR)$(PREFIX)/share/tallyman/

clean:
	rm -rf build tallyman

-include $(wildcard $(B)/core/*.d $(B)/sandbox/*.d $(B)/app/*.d $(B)/tests/*.d $(B)/tests/*/*.d)
