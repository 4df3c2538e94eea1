# Kasi - build, run, test, install.
#   make            optimised build: bin/kasi-server
#   make LUA=luajit scripting on LuaJIT 2.1 rather than Lua 5.1; NOLUA=1: none
#   make run        build and start on 127.0.0.1:5000 in the foreground
#   make test       every test, optimised and under ASan+UBSan and TSan
#   make install PREFIX=$HOME/.local
#   make sample-config  etc/kasi.conf again, from the directive table
#   make bench      Kasi vs Redis 7 side by side
#
# Objects are built once per flavour (build/opt, build/asan, build/tsan;
# under build/luajit/ or build/nolua/ for the other Lua choices, below)
# with automatic header dependencies, so touching one file rebuilds one
# object; the unit tests link the same objects as the server. make runs
# jobs in parallel by default (one per core).
CC      ?= cc
PREFIX  ?= /usr/local
PYTHON  ?= /usr/bin/python3
NPROC   := $(shell nproc 2>/dev/null || echo 2)
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
LDLIBS  := -lpthread -lm
INC     := -Isrc
# Scripting (EVAL, FUNCTION) embeds Lua 5.1 with cjson and bitop, linked
# statically so the server needs only libc: Debian's liblua5.1-0-dev,
# lua-cjson-dev and lua-bitop-dev. Without them (or with NOLUA=1) the
# server is built without scripting, and EVAL and friends say so.
# make LUA=luajit embeds LuaJIT 2.1 instead (libluajit-5.1-dev, with
# lua-cjson-dev; its own bit library replaces bitop), its interpreter only:
# compiled code would not run the count hook that stops a long script.
# Each Lua gets its own objects (build/, build/luajit/, build/nolua/), and
# switching relinks the binaries.
ARCH    := $(shell $(CC) -print-multiarch 2>/dev/null)
LUA_LIB := /usr/lib/$(ARCH)
ifeq ($(LUA),luajit)
LUA_INC := /usr/include/luajit-2.1
LUA_A   := $(LUA_LIB)/liblua5.1-cjson.a $(LUA_LIB)/libluajit-5.1.a
LUA_DEF := -DKASI_LUAJIT
LUA_LD  := -static-libgcc
else
LUA_INC := /usr/include/lua5.1
LUA_A   := $(LUA_LIB)/liblua5.1-cjson.a $(LUA_LIB)/liblua5.1-bitop.a $(LUA_LIB)/liblua5.1.a
endif
ifeq ($(NOLUA)$(wildcard $(LUA_INC)/lua.h $(LUA_A)),$(LUA_INC)/lua.h $(LUA_A))
INC     += -DKASI_LUA $(LUA_DEF) -I$(LUA_INC)
LDLIBS  := $(LUA_A) $(LUA_LD) $(LDLIBS)
LUA_KIND := $(if $(LUA_DEF),luajit,lua5.1)
B       := build$(if $(LUA_DEF),/luajit)
else
LUA_KIND := nolua
B       := build/nolua
endif
# build/lua changes when the Lua does, so that the binaries are relinked
LUA_STAMP := build/lua
$(shell mkdir -p build && [ "`cat $(LUA_STAMP) 2>/dev/null`" = $(LUA_KIND) ] || echo $(LUA_KIND) >$(LUA_STAMP))
# --version's build details: the commit, "00000000" where there is no git
# (a release tarball), with ":1" if the tree differs from it, as Redis
# writes it. build/git-sha changes only when they do, and main.o alone
# depends on it.
GIT_SHA := $(shell git rev-parse --short=8 HEAD 2>/dev/null || echo 00000000)
GIT_DIRTY := $(if $(shell git status --porcelain --untracked-files=no 2>/dev/null),1,0)
SHA_STAMP := build/git-sha
$(shell [ "`cat $(SHA_STAMP) 2>/dev/null`" = $(GIT_SHA):$(GIT_DIRTY) ] || echo $(GIT_SHA):$(GIT_DIRTY) >$(SHA_STAMP))
# make V=1 shows the whole commands
Q       := $(if $(V),,@)

FLAGS_opt  := $(CFLAGS)
FLAGS_asan := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FLAGS_tsan := -O1 -g -fsanitize=thread

SRCS := $(shell find src -name '*.c' | sort)
MAIN := src/server/main.c
LIB_SRCS := $(filter-out $(MAIN) src/main.c,$(SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)

objs = $(patsubst src/%.c,$(B)/$(1)/%.o,$(2))
link_in = $(filter-out $(LUA_STAMP),$^)

JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC))
all:
	@$(MAKE) --no-print-directory $(JOBS) bin/kasi-server

# Each object depends on its source (the header dependencies come from -MMD).
define flavour
$(B)/$(1)/%.o: src/%.c
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC    $$@")
	$$(Q)$$(CC) $$(CSTD) $$(WARN) $$(FLAGS_$(1)) $$(INC) $$(BUILD_DEFS) -MMD -MP -c -o $$@ $$<
$(B)/$(1)/server/main.o: $(SHA_STAMP)
$(B)/$(1)/server/main.o: BUILD_DEFS = -DKASI_GIT_SHA='"$(GIT_SHA)"' -DKASI_GIT_DIRTY=$(GIT_DIRTY) \
  -DKASI_BUILD='"$(1)"' -DKASI_CFLAGS='"$(FLAGS_$(1))"'
$(B)/$(1)/test_%.o: tests/unit/test_%.c
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC    $$@")
	$$(Q)$$(CC) $$(CSTD) $$(WARN) $$(FLAGS_$(1)) $$(INC) -Itests/unit -MMD -MP -c -o $$@ $$<
$(B)/$(1)/libkasi.a: $(call objs,$(1),$(LIB_SRCS))
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach f,opt asan tsan,$(eval $(call flavour,$(f))))

bin/kasi-server: $(call objs,opt,$(SRCS)) $(LUA_STAMP) | bin
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(FLAGS_opt) -o $@ $(link_in) $(LDLIBS)

bin/kasi-server-asan: $(call objs,asan,$(SRCS)) $(LUA_STAMP) | bin
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(FLAGS_asan) -o $@ $(link_in) $(LDLIBS)

bin/kasi-server-tsan: $(call objs,tsan,$(SRCS)) $(LUA_STAMP) | bin
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(FLAGS_tsan) -o $@ $(link_in) $(LDLIBS)

bin/test_%: $(B)/opt/test_%.o $(B)/opt/libkasi.a $(LUA_STAMP) | bin
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(FLAGS_opt) -o $@ $(link_in) $(LDLIBS)

bin/asan_test_%: $(B)/asan/test_%.o $(B)/asan/libkasi.a $(LUA_STAMP) | bin
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(FLAGS_asan) -o $@ $(link_in) $(LDLIBS)

bin:
	mkdir -p bin

-include $(shell find build -name '*.d' 2>/dev/null)

run: all
	./bin/kasi-server --port 5000 --bind 127.0.0.1

# etc/kasi.conf is what the server prints (a test checks that they match).
sample-config: bin/kasi-server
	./bin/kasi-server --sample-config >etc/kasi.conf

install: bin/kasi-server
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 bin/kasi-server $(DESTDIR)$(PREFIX)/bin/kasi-server

# ---- tests ----
UNIT_TESTS := $(patsubst tests/unit/%.c,bin/%,$(UNIT_SRCS))
UNIT_TESTS_ASAN := $(patsubst tests/unit/%.c,bin/asan_%,$(UNIT_SRCS))

test-deps:
	@sh tests/install-deps.sh

unit-bins: $(UNIT_TESTS) $(UNIT_TESTS_ASAN)

unit: unit-bins
	@set -e; for t in $(UNIT_TESTS) $(UNIT_TESTS_ASAN); do echo "== $$t"; $$t; done

PYTEST := $(PYTHON) -m pytest -q -p no:cacheprovider

# Optimised with the default threads and with one, then ASan+UBSan, then
# ThreadSanitizer (KASI_ASAN stretches the timing checks for slow builds):
# all of it with the default threads, and with one worker the tests where
# the snapshot and AOF threads run beside it (a lone worker's lookahead
# reads tables without locks). The one-worker optimised pass leaves out the
# differential suites but the fuzzers: the others send one command at a
# time on one connection, which one worker runs as the default threads do.
# The differential scripts run in RESP2 and RESP3 in the optimised pass; the
# sanitizer passes run them in RESP2 (the RESP3 forms are the same handlers'
# other composers, which test_diff_resp3.py's own HELLO 3 scenarios run
# under ASan too), which saves their longest suites half their time.
# Under TSan, of the differential suites, those where several clients meet
# on several workers and the fuzzers: the others send one command at a time
# on one connection, which adds no interleaving the rest does not run.
TSAN_DIFF := tests/diff/test_diff_pubsub.py tests/diff/test_diff_blocking.py tests/diff/test_diff_tracking.py \
  tests/diff/test_diff_notify.py tests/diff/test_diff_clients.py tests/diff/test_diff_resp3.py \
  tests/diff/test_diff_script_busy.py tests/diff/test_diff_slowlog.py tests/diff/test_diff_client_pause.py \
  tests/diff/test_diff_debug.py tests/diff/test_proto_fuzz.py tests/diff/test_fuzz_diff.py tests/diff/test_fuzz_sets.py
TSAN_RUN := TSAN_OPTIONS=halt_on_error=0 KASI_SERVER=$(CURDIR)/bin/kasi-server-tsan KASI_ASAN=1 KASI_DIFF_PROTOS=2
integration: bin/kasi-server bin/kasi-server-asan bin/kasi-server-tsan
	KASI_SERVER=$(CURDIR)/bin/kasi-server $(PYTEST) tests/integration tests/diff
	KASI_SERVER=$(CURDIR)/bin/kasi-server KASI_SERVER_ARGS="--threads 1" $(PYTEST) tests/integration \
	  tests/diff/test_proto_fuzz.py tests/diff/test_fuzz_diff.py
	KASI_SERVER=$(CURDIR)/bin/kasi-server-asan KASI_ASAN=1 KASI_DIFF_PROTOS=2 $(PYTEST) tests/integration tests/diff
	$(TSAN_RUN) $(PYTEST) tests/integration $(TSAN_DIFF)
	$(TSAN_RUN) KASI_SERVER_ARGS="--threads 1" $(PYTEST) tests/integration/test_persistence.py \
	  tests/integration/test_protocol.py tests/integration/test_concurrency.py

python-tests: bin/kasi-server bin/kasi-server-asan
	KASI_SERVER=$(CURDIR)/bin/kasi-server $(PYTEST) tests/python
	KASI_SERVER=$(CURDIR)/bin/kasi-server-asan KASI_ASAN=1 $(PYTEST) tests/python \
	  --deselect tests/python/test_install.py::test_pip_install_fresh_venv

# The suites run one after another (each spawns servers of its own and
# measures timings); only the builds run in parallel.
# src/ is layered: no file may include a header of a layer above its own.
check-layers:
	@$(PYTHON) tests/tools/check_layers.py

# The files that differ without Lua compile without it (NOLUA=1 builds).
check-nolua:
	$(Q)for f in src/script/*.c src/cmd/scripting.c src/cmd/functions.c; do \
	  $(CC) $(CSTD) $(WARN) -Isrc -fsyntax-only $$f || exit 1; done

test: test-deps check-layers check-nolua
	$(MAKE) $(JOBS) unit-bins bin/kasi-server bin/kasi-server-asan bin/kasi-server-tsan
	$(MAKE) -j1 unit integration python-tests

bench: bin/kasi-server
	$(PYTHON) bench/run.py

clean:
	rm -rf bin build *.egg-info python/*.egg-info python/kasi/bin

.SECONDARY:
.PHONY: all run sample-config install test test-deps check-layers check-nolua unit unit-bins integration python-tests bench clean
