# Kasi - build, run, test, install.
#   make            optimised build: bin/kasi-server
#   make run        build and start on 127.0.0.1:5000 in the foreground
#   make test       every test, optimised and under ASan+UBSan
#   make install PREFIX=$HOME/.local
#   make bench      Kasi vs Redis 7 side by side
CC      ?= cc
PREFIX  ?= /usr/local
PYTHON  ?= /usr/bin/python3
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
LDLIBS  := -lpthread -lm

SRCS := $(wildcard src/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))

all: bin/kasi-server

bin/kasi-server: $(SRCS) $(wildcard src/*.h) | bin
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -o $@ $(SRCS) $(LDLIBS)

bin/kasi-server-asan: $(SRCS) $(wildcard src/*.h) | bin
	$(CC) $(CSTD) $(WARN) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=undefined -o $@ $(SRCS) $(LDLIBS)

bin/kasi-server-tsan: $(SRCS) $(wildcard src/*.h) | bin
	$(CC) $(CSTD) $(WARN) -O1 -g -fsanitize=thread -o $@ $(SRCS) $(LDLIBS)

bin:
	mkdir -p bin

run: bin/kasi-server
	./bin/kasi-server --port 5000 --bind 127.0.0.1

install: bin/kasi-server
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 bin/kasi-server $(DESTDIR)$(PREFIX)/bin/kasi-server

# ---- tests ----
UNIT_TESTS := $(patsubst tests/unit/%.c,bin/%,$(wildcard tests/unit/test_*.c))
UNIT_TESTS_ASAN := $(patsubst tests/unit/%.c,bin/asan_%,$(wildcard tests/unit/test_*.c))

bin/test_%: tests/unit/test_%.c $(LIB_SRCS) $(wildcard src/*.h) | bin
	$(CC) $(CSTD) $(WARN) -O2 -g -Isrc -o $@ $< $(LIB_SRCS) $(LDLIBS)

bin/asan_test_%: tests/unit/test_%.c $(LIB_SRCS) $(wildcard src/*.h) | bin
	$(CC) $(CSTD) $(WARN) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  -Isrc -o $@ $< $(LIB_SRCS) $(LDLIBS)

test-deps:
	@sh tests/install-deps.sh

unit: $(UNIT_TESTS) $(UNIT_TESTS_ASAN)
	@set -e; for t in $(UNIT_TESTS) $(UNIT_TESTS_ASAN); do echo "== $$t"; $$t; done

PYTEST := $(PYTHON) -m pytest -q -p no:cacheprovider

# Optimised with the default threads and with one, then ASan+UBSan, then
# ThreadSanitizer (KASI_ASAN stretches the timing checks for slow builds):
# all of it with the default threads, and with one worker the tests where
# the snapshot and AOF threads run beside it (a lone worker's lookahead
# reads tables without locks).
TSAN_RUN := TSAN_OPTIONS=halt_on_error=0 KASI_SERVER=$(CURDIR)/bin/kasi-server-tsan KASI_ASAN=1
integration: bin/kasi-server bin/kasi-server-asan bin/kasi-server-tsan
	KASI_SERVER=$(CURDIR)/bin/kasi-server $(PYTEST) tests/integration tests/diff
	KASI_SERVER=$(CURDIR)/bin/kasi-server KASI_SERVER_ARGS="--threads 1" $(PYTEST) tests/integration tests/diff
	KASI_SERVER=$(CURDIR)/bin/kasi-server-asan KASI_ASAN=1 $(PYTEST) tests/integration tests/diff
	$(TSAN_RUN) $(PYTEST) tests/integration tests/diff
	$(TSAN_RUN) KASI_SERVER_ARGS="--threads 1" $(PYTEST) tests/integration/test_persistence.py \
	  tests/integration/test_protocol.py tests/integration/test_concurrency.py

python-tests: bin/kasi-server bin/kasi-server-asan
	KASI_SERVER=$(CURDIR)/bin/kasi-server $(PYTEST) tests/python
	KASI_SERVER=$(CURDIR)/bin/kasi-server-asan KASI_ASAN=1 $(PYTEST) tests/python \
	  --deselect tests/python/test_install.py::test_pip_install_fresh_venv

test: test-deps unit integration python-tests

bench: bin/kasi-server
	$(PYTHON) bench/run.py

clean:
	rm -rf bin build *.egg-info python/*.egg-info python/kasi/bin

.PHONY: all run install test test-deps unit integration python-tests bench clean
