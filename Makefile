# coinhound build. Plain make: sources are found by folder, so adding a file
# to src/<part>/ adds it to the library without touching this file.
#
#   make            library, coinhound CLI and tools (build/)
#   make test       build and run the whole test suite
#   make sanitize   the same tests under ASan + UBSan (build-asan/)
#   make fuzz       libFuzzer harnesses (clang), each run briefly
#   make bench      benchmarks (not tests: they print ratios)

CC      ?= cc
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
BUILD   ?= build
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
PKGS    := lmdb libcrypto jansson libxml-2.0 yaml-0.1 libcurl libmicrohttpd yajl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP
LDLIBS  := $(PKG_LIBS) -lpthread -lm $(EXTRA_LDFLAGS)

LIB_SRC   := $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/tools/*' | sort)
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
TOOL_SRC  := $(sort $(wildcard src/tools/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard tests/support/*.c)))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libcoinhound.a
CLI      := $(BUILD)/coinhound
TOOLS    := $(TOOL_SRC:src/tools/%.c=$(BUILD)/%)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all test sanitize fuzz bench clean format format-check
.SECONDARY:
all: $(LIB) $(CLI) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/%: $(BUILD)/obj/src/tools/%.o $(LIB)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(SUPPORT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(SUPPORT_OBJ) $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS)

test: all $(TESTS)
	@BUILD=$(BUILD) sh tests/run.sh $(TESTS)

sanitize:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" test

fuzz:
	$(MAKE) -f fuzz/Makefile FUZZ_SECONDS=$(or $(FUZZ_SECONDS),20)

bench: all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

format:
	clang-format -i $$(find include src tests bench fuzz -name '*.[ch]')

format-check:
	clang-format --dry-run -Werror $$(find include src tests bench fuzz -name '*.[ch]')

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
