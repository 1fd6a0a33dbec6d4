# shush: one plain Makefile.
#   make            build shushd, shush-worker, shush
#   make run        install what is missing, build, run the local stack
#   make check      sanitizer build, then every test against a throwaway stack
#   make bench      benchmarks as ratios to a bare FastCGI responder
#   make fuzz       the libFuzzer targets, longer than in check
#   make lint       cppcheck

PKGS     = fcgi libpq hiredis libcjson openssl libcurl
CC      ?= cc
SAN     ?=
OPT     ?= -O2
BUILD   ?= build
CFLAGS_WARN = -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wno-unused-parameter
CPPFLAGS_ALL = -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS))
CFLAGS_ALL   = $(CFLAGS_WARN) $(OPT) -g -fno-omit-frame-pointer -fstack-protector-strong \
	-D_FORTIFY_SOURCE=2 $(SAN) $(CFLAGS)
LDLIBS_ALL   = $(shell pkg-config --libs $(PKGS)) -lunistring -lm $(LDLIBS)
LDFLAGS_ALL  = $(SAN) -Wl,-z,relro,-z,now $(LDFLAGS)

ifeq ($(SANITIZE),1)
SAN  = -fsanitize=address,undefined -fno-sanitize-recover=undefined
OPT  = -O1
BUILD = build/san
endif

LIB_SRC = $(wildcard lib/*.c)
APP_SRC = app/shushd.c app/fcgi.c app/router.c app/routes.c app/pipeline.c app/http.c \
	app/auth.c $(wildcard app/res_*.c)
WRK_SRC = $(wildcard app/worker/*.c)
CLI_SRC = $(wildcard app/cli/*.c)
UNIT_SRC = $(wildcard t/unit/*.c)

LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
APP_OBJ = $(APP_SRC:%.c=$(BUILD)/%.o)
WRK_OBJ = $(WRK_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN = $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/unit/%)

all: $(BUILD)/shushd $(BUILD)/shush-worker $(BUILD)/shush $(BUILD)/t/bench/baseline

$(BUILD)/%.o: %.c lib/shush.h app/app.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

$(CLI_OBJ): app/cli/cli.h

$(BUILD)/libshush.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/shushd: $(APP_OBJ) $(BUILD)/libshush.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/shush-worker: $(WRK_OBJ) $(BUILD)/libshush.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/shush: $(CLI_OBJ) $(BUILD)/libshush.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/t/bench/baseline: $(BUILD)/t/bench/baseline.o
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/t/unit/%: $(BUILD)/t/unit/%.o $(BUILD)/libshush.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

units: $(UNIT_BIN)

deps:
	@sh scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@exec sh scripts/run.sh

check: deps
	@$(MAKE) --no-print-directory SANITIZE=1 all units
	@$(MAKE) --no-print-directory fuzz-build
	@sh t/run.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh t/bench/run.sh

FUZZ_SRC = $(wildcard t/fuzz/*.c)
FUZZ_BIN = $(FUZZ_SRC:t/fuzz/%.c=build/fuzz/%)
build/fuzz/%: t/fuzz/%.c $(LIB_SRC) lib/shush.h
	@mkdir -p build/fuzz
	clang $(CPPFLAGS_ALL) -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRC) $(LDLIBS_ALL)
fuzz-build: $(FUZZ_BIN)
fuzz: fuzz-build
	@for f in $(FUZZ_BIN); do echo "fuzz: $$f"; $$f -max_total_time=$${FUZZ_SECONDS:-60} t/fuzz/corpus/$$(basename $$f) || exit 1; done

lint:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
		--suppress=missingIncludeSystem -D__GNUC__ lib app

install: all
	install -d $(DESTDIR)/usr/local/bin $(DESTDIR)/usr/local/share/shush
	install -m 0755 $(BUILD)/shushd $(BUILD)/shush-worker $(BUILD)/shush $(DESTDIR)/usr/local/bin/
	install -d $(DESTDIR)/usr/local/share/man/man1
	install -m 0644 app/cli/shush.1 $(DESTDIR)/usr/local/share/man/man1/
	cp -r schema nginx systemd web $(DESTDIR)/usr/local/share/shush/

clean:
	rm -rf build

.PHONY: all units deps run check bench fuzz fuzz-build lint install clean
.SECONDARY:
