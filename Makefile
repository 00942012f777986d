# coinhound build. Plain make: sources are found by folder, so adding a file
# to src/<part>/ adds it to the library without touching this file.
#
#   make            library, coinhound CLI and tools (build/)
#   make test       build and run the whole test suite
#   make sanitize   the same tests under ASan + UBSan (build-asan/)
#   make fuzz       libFuzzer harnesses (clang), each run briefly
#   make bench      benchmarks (not tests: they print ratios)
#   make check-layers  no #include crosses a layer the wrong way (docs/layers.md)
#   make check-comments  every static function of 30 lines or more says why it exists
#   make check-length  no function in src/ of more than 100 lines (MAX_LINES=N)
#   make shared     libcoinhound.so (PIC objects, in $(BUILD)/pic/)
#   make install PREFIX=/usr/local [DESTDIR=...]
#                   the CLI and tools, the public headers, libcoinhound.a,
#                   libcoinhound.so.$(VERSION) (soname libcoinhound.so.$(SO_MAJOR))
#                   and coinhound.pc for pkg-config
#
# Libraries, all in $(BUILD)/:
#   libcoinhound.a           the public static library: every object linked
#                            into one (ld -r) in which only ch_* symbols stay
#                            global, so an embedder's own csv_init or
#                            import_csv never meets ours
#   libcoinhound.so.*        the public shared library: the same objects built
#                            -fPIC, exporting ch_* only (src/libcoinhound.map)
#   libcoinhound-internal.a  the same objects with every symbol: what the CLI,
#                            tools, tests, benches and fuzzers link
#   libcoinhound-gen.a       the chain generators (src/gen, src/evmgen): a tool
#                            library, in neither public library

CC      ?= cc
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
BUILD   ?= build
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
PKGS    := lmdb libcrypto jansson libxml-2.0 yaml-0.1 libcurl libmicrohttpd yajl libxxhash simdjson
PREFIX  ?= /usr/local
VERSION  := $(shell sed -n 's/^\#define COINHOUND_VERSION "\(.*\)"/\1/p' include/coinhound/version.h)
SO_MAJOR := $(firstword $(subst ., ,$(VERSION)))
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP
LDLIBS  := $(PKG_LIBS) -lstdc++ -lpthread -lm $(EXTRA_LDFLAGS)
# The one C++ file (src/util/sjson.cpp, the C face on simdjson): no
# exceptions, no RTTI; compiled by the C++ driver of the same compiler family.
CXX_FOR := $(if $(findstring clang,$(CC)),clang++,c++)
CXXFLAGS_ALL := -std=c++17 -D_GNU_SOURCE $(OPT) $(filter-out -Wstrict-prototypes,$(WARN)) -fno-exceptions -fno-rtti \
  -Iinclude -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP

LIB_SRC   := $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/tools/*' \
               -not -path 'src/gen/*' -not -path 'src/evmgen/*' | sort)
LIB_CXX_SRC := $(shell find src -name '*.cpp' | sort)
GEN_SRC   := $(shell find src/gen src/evmgen -name '*.c' | sort)
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
TOOL_SRC  := $(sort $(wildcard src/tools/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard tests/support/*.c)))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_CXX_SRC:%.cpp=$(BUILD)/obj/%.o)
PIC_OBJ  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o) $(LIB_CXX_SRC:%.cpp=$(BUILD)/pic/%.o)
GEN_OBJ  := $(GEN_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libcoinhound.a
LIB_INTERNAL := $(BUILD)/libcoinhound-internal.a
GENLIB   := $(BUILD)/libcoinhound-gen.a
SONAME   := libcoinhound.so.$(SO_MAJOR)
SO       := $(BUILD)/libcoinhound.so.$(VERSION)
SYMMAP   := src/libcoinhound.map
CLI      := $(BUILD)/coinhound
TOOLS    := $(TOOL_SRC:src/tools/%.c=$(BUILD)/%)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all shared install test sanitize fuzz bench clean format format-check python web check-layers check-comments check-length
.SECONDARY:
all: $(LIB) $(LIB_INTERNAL) $(CLI) $(TOOLS)
shared: $(SO)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX $<")
	$(Q)$(CXX_FOR) $(CXXFLAGS_ALL) -c $< -o $@

$(BUILD)/pic/%.o: %.cpp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX -fPIC $<")
	$(Q)$(CXX_FOR) $(CXXFLAGS_ALL) -fPIC -c $< -o $@

# The shared library's objects: position-independent, in a folder of their
# own so that the static library and the CLI keep their non-PIC code.
$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC -fPIC $<")
	$(Q)$(CC) $(CFLAGS_ALL) -fPIC -c $< -o $@

$(LIB_INTERNAL): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(GENLIB): $(GEN_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The public archive: one relocatable object holding the whole library, in
# which every global but ch_* is made local. Its parts still reach each
# other (they were linked together by ld -r); nothing outside sees them.
$(LIB): $(LIB_OBJ)
	@mkdir -p $(BUILD)/public
	@$(if $(Q),echo "  AR $@ (ch_* only)")
	$(Q)ld -r -o $(BUILD)/public/coinhound.o $^
	$(Q)objcopy --wildcard --keep-global-symbol='ch_*' $(BUILD)/public/coinhound.o
	$(Q)rm -f $@ && ar rcs $@ $(BUILD)/public/coinhound.o

$(SO): $(PIC_OBJ) $(SYMMAP)
	@$(if $(Q),echo "  LD $@ (soname $(SONAME))")
	$(Q)$(CC) $(OPT) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(SYMMAP) -Wl,-z,defs \
	  -o $@ $(PIC_OBJ) $(LDLIBS)
	$(Q)ln -sf $(notdir $@) $(BUILD)/$(SONAME) && ln -sf $(SONAME) $(BUILD)/libcoinhound.so

$(CLI): $(CLI_OBJ) $(LIB_INTERNAL)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(LIB_INTERNAL) $(LDLIBS)

$(BUILD)/%: $(BUILD)/obj/src/tools/%.o $(GENLIB) $(LIB_INTERNAL)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(GENLIB) $(LIB_INTERNAL) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(SUPPORT_OBJ) $(GENLIB) $(LIB_INTERNAL)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(SUPPORT_OBJ) $(GENLIB) $(LIB_INTERNAL) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(GENLIB) $(LIB_INTERNAL)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(GENLIB) $(LIB_INTERNAL) $(LDLIBS)

# What an embedder includes (see include/coinhound/coinhound.h for the split);
# the other headers (JSON writer, progress, address encodings, generators)
# serve the CLI and tools and are not installed.
PUBLIC_HEADERS := $(addprefix include/coinhound/,address.h btc.h chainaddr.h cluster.h \
  coinhound.h error.h evm.h exposure.h hash.h ingest.h intel.h lock.h model.h poison.h query.h risk.h \
  report.h screen.h store.h tokens.h trace.h trace_account.h version.h)
INSTALL_BINS := $(CLI) $(TOOLS)
# What coinhound.pc requires: PKGS but libxxhash, whose XXH3 the library
# compiles in from its header (src/screen/format.h): neither libcoinhound.a
# nor the .so needs it, so an embedder needs no libxxhash-dev.
PC_REQUIRES := $(filter-out libxxhash,$(PKGS))
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include

install: $(INSTALL_BINS) $(LIB) $(SO) coinhound.pc.in
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(INCDIR)/coinhound $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 755 $(INSTALL_BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCDIR)/coinhound/
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SO)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libcoinhound.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	  -e 's|@VERSION@|$(VERSION)|' -e 's|@PKGS@|$(PC_REQUIRES)|' coinhound.pc.in \
	  > $(DESTDIR)$(LIBDIR)/pkgconfig/coinhound.pc

# An independent reader of the screening set written from its spec
# (docs/screening-set.md): no coinhound header or object, only libxxhash and
# OpenSSL. tests/test_screen_vectors.c runs it on the committed vectors.
SPEC_READER := $(BUILD)/tests/screen_spec_reader
$(SPEC_READER): tests/spec/screen_spec_reader.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 $(OPT) $(WARN) -o $@ $< $(shell pkg-config --cflags --libs libxxhash libcrypto) \
	  $(EXTRA_LDFLAGS)

# The install test (tests/test_install.sh) needs the shared library too.
test: all $(TESTS) $(SO) $(SPEC_READER)
	@BUILD=$(BUILD) CC="$(CC)" OPT="$(OPT)" SAN_LDFLAGS="$(EXTRA_LDFLAGS)" sh tests/run.sh $(TESTS) tests/test_install.sh tests/test_python.sh \
	  tests/test_web_flow.sh tests/test_webui.sh tests/test_check_layers.sh tests/test_contrib.sh

# The Python binding's module (python/README.md), beside the shared library.
python: $(SO)
	$(or $(PYTHON),python3) python/build_native.py --include include --lib $(BUILD) --out $(BUILD)/python

# The web UI served by coinhound serve at / (web/dist; npm ci in web/ first,
# as scripts/deps.sh does).
web:
	cd web && node build.mjs

# The layer order of docs/layers.md, held: parsers know nothing of the store,
# the store nothing of analyses, analyses nothing of the doors.
check-layers:
	@sh scripts/check_layers.sh

# Static functions of 30 lines or more without a comment above them (the
# house style: a function that is not obvious says why it exists).
check-comments:
	@sh scripts/uncommented_statics.sh

# Functions of more than MAX_LINES (default 100) lines in src/, longest first:
# several ideas in one, to split into named steps.
check-length:
	@sh scripts/long_functions.sh

sanitize:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" test

fuzz:
	$(MAKE) -f fuzz/Makefile FUZZ_SECONDS=$(or $(FUZZ_SECONDS),20)

bench: all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

format:
	clang-format -i $$(find include src tests bench fuzz -name '*.[ch]' -o -name '*.cpp')

format-check:
	clang-format --dry-run -Werror $$(find include src tests bench fuzz -name '*.[ch]' -o -name '*.cpp')

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
