# siplb build: BPF objects and skeletons, userspace binaries, tests, bench.
# Quiet unless V=1. Everything lands in build/.
.DELETE_ON_ERROR:
.SUFFIXES:

BUILD     ?= build
CLANG     ?= clang
CC        ?= gcc
BPFTOOL   ?= bpftool
PREFIX    ?= /usr/local
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_$(ARCH) \
	-I include -I /usr/include/$(MULTIARCH)
USER_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
	-I include -I user -I $(BUILD) $(EXTRA_CFLAGS)
USER_LDLIBS := -lbpf -lelf -lz -ljson-c -lpcap -lyaml -lmnl -lmicrohttpd -lsystemd -lssl -lcrypto

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS      := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
HDRS       := $(wildcard include/*.h user/*.h)

# Userspace library: every user/*.c except the files holding main().
USER_MAINS := user/siplbctl.c user/siplbd.c user/siplb-decap.c
USER_SRCS  := $(filter-out $(USER_MAINS),$(wildcard user/*.c))
USER_OBJS  := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))

UNIT_SRCS  := $(wildcard tests/unit/*.c)
BPFT_SRCS  := $(wildcard tests/bpf/*.c)
# Test tools: one binary per tests/tools/*.c (SIP responders, stream senders).
TOOL_SRCS  := $(wildcard tests/tools/*.c)
TOOLS      := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))

BINS := $(BUILD)/siplbctl $(BUILD)/siplbd $(BUILD)/siplb-decap

.PHONY: all deps test unit asan bpftest integ e2e fuzz fuzz-relay bench demo clean install
all: $(BPF_OBJS) $(SKELS) $(BINS) $(TOOLS)

deps:
	$(Q)scripts/deps.sh

$(BUILD) $(BUILD)/obj $(BUILD)/tests $(BUILD)/asan $(BUILD)/tools:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(HDRS) $(wildcard bpf/*.h) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

$(BUILD)/obj/%.o: user/%.c $(HDRS) $(SKELS) | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/siplbctl $(BUILD)/siplbd $(BUILD)/siplb-decap: $(BUILD)/%: user/%.c $(USER_OBJS) $(HDRS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(USER_CFLAGS) $< $(USER_OBJS) -o $@ $(USER_LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(USER_OBJS) $(HDRS) | $(BUILD)/tools
	$(call msg,LD,$@)
	$(Q)$(CC) $(USER_CFLAGS) $< $(USER_OBJS) -o $@ $(USER_LDLIBS)

# Unit tests: one Criterion binary over the userspace library.
$(BUILD)/tests/unit: $(UNIT_SRCS) $(USER_OBJS) $(HDRS) | $(BUILD)/tests
	$(call msg,LD,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(UNIT_SRCS) $(USER_OBJS) -o $@ $(USER_LDLIBS) -lcriterion

# The same unit suite under ASan and UBSan, built from source, not from the -O2 objects.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
$(BUILD)/asan/unit: $(UNIT_SRCS) $(USER_SRCS) $(HDRS) $(SKELS) | $(BUILD)/asan
	$(call msg,LD,$@)
	$(Q)$(CC) $(filter-out -O2,$(USER_CFLAGS)) $(SAN_FLAGS) $(UNIT_SRCS) $(USER_SRCS) \
		-o $@ $(USER_LDLIBS) -lcriterion

# BPF tests: BPF_PROG_TEST_RUN on the real objects (root).
$(BUILD)/tests/bpf: $(BPFT_SRCS) $(USER_OBJS) $(SKELS) $(HDRS) | $(BUILD)/tests
	$(call msg,LD,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(BPFT_SRCS) $(USER_OBJS) -o $@ $(USER_LDLIBS) -lcriterion

# Benchmarks (make bench).
$(BUILD)/bench_xdp: tests/bench/bench_xdp.c tests/bpf/pkt.c $(USER_OBJS) $(SKELS) $(HDRS) | $(BUILD)
	$(call msg,LD,$@)
	$(Q)$(CC) $(USER_CFLAGS) tests/bench/bench_xdp.c tests/bpf/pkt.c $(USER_OBJS) -o $@ $(USER_LDLIBS)

# libFuzzer target for the parser, with ASan and UBSan.
$(BUILD)/fuzz_parser: tests/fuzz/fuzz_parser.c $(HDRS) | $(BUILD)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -I include -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< -o $@

# libFuzzer target for the stream framing and the relay's rewriting (user/).
RELAY_FUZZ_SRCS := user/framing.c user/siphdr.c user/relay.c user/flowtoken.c
$(BUILD)/fuzz_relay: tests/fuzz/fuzz_relay.c $(RELAY_FUZZ_SRCS) $(HDRS) | $(BUILD)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -D_GNU_SOURCE -I include -I user -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(RELAY_FUZZ_SRCS) -o $@ -lcrypto

FUZZ_SECONDS ?= 60
RELAY_FUZZ_SECONDS ?= 20

unit: $(BUILD)/tests/unit $(BINS)
	$(Q)$(BUILD)/tests/unit --jobs 2

asan: $(BUILD)/asan/unit $(BINS)
	$(Q)ASAN_OPTIONS=detect_leaks=1 $(BUILD)/asan/unit --jobs 2

bpftest: $(BUILD)/tests/bpf $(BPF_OBJS)
	$(Q)$(BUILD)/tests/bpf --jobs 1

# Integration tests: siplbd in network namespaces (root), tests/integ/*.sh.
integ: all
	$(Q)BUILD=$(BUILD) tests/integ/run.sh

# End-to-end tests: real SIP software (Kamailio, sipp) through siplb, tests/e2e/*.sh.
e2e: all
	$(Q)BUILD=$(BUILD) TEST_DIR=tests/e2e tests/integ/run.sh

fuzz: $(BUILD)/fuzz_parser fuzz-relay
	$(Q)mkdir -p $(BUILD)/fuzz-corpus
	$(Q)$(BUILD)/fuzz_parser -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-print_final_stats=1 -artifact_prefix=$(BUILD)/ \
		$(BUILD)/fuzz-corpus tests/corpus > $(BUILD)/fuzz.log 2>&1; \
		rc=$$?; tail -n 15 $(BUILD)/fuzz.log; exit $$rc

fuzz-relay: $(BUILD)/fuzz_relay
	$(Q)mkdir -p $(BUILD)/fuzz-relay-corpus
	$(Q)$(BUILD)/fuzz_relay -max_total_time=$(RELAY_FUZZ_SECONDS) -max_len=4096 \
		-print_final_stats=1 -artifact_prefix=$(BUILD)/relay- \
		$(BUILD)/fuzz-relay-corpus tests/corpus > $(BUILD)/fuzz-relay.log 2>&1; \
		rc=$$?; tail -n 8 $(BUILD)/fuzz-relay.log; exit $$rc

# make test: install what is missing, build, run every suite.
test:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run-tests.sh

bench:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench_xdp
	$(Q)BUILD=$(BUILD) scripts/bench.sh

demo:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

# The BPF objects are compiled into the binaries (skeletons); the .o files are
# installed for inspection (bpftool, llvm-objdump) only.
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/siplb \
		$(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(PREFIX)/share/doc/siplb \
		$(DESTDIR)/etc/siplb
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 $(BUILD)/siplb.bpf.o $(BUILD)/decap.bpf.o $(DESTDIR)$(PREFIX)/lib/siplb/
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@DOCDIR@|$(PREFIX)/share/doc/siplb|g' scripts/systemd/siplbd@.service \
		> $(DESTDIR)$(SYSTEMDDIR)/siplbd@.service
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/siplb/
	install -m 0644 scripts/siplb.example.yaml $(DESTDIR)$(PREFIX)/share/doc/siplb/

clean:
	$(Q)rm -rf $(BUILD)
