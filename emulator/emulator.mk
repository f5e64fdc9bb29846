# The emulated CUDA device (emulator/README.md): kernels/*.cu compiled by the host C++ compiler
# into emulator/build/libgsae_emu.so, which gsae.cuda.EmulatedDevice loads through FFM.
# Included by the top-level Makefile; `make emulator` builds it, `make emulator-planted` the
# planted-bug copies that EmulatorTeethTest must see fail.

EMU_CXX ?= g++
# -ffp-contract=off: no multiply-add is fused unless the source says fmaf (the _rn intrinsics round
# as on the device); -fno-ipa-reference-addressable: GCC must not fold a read of a __shared__
# static that no code writes to zero, or a read of unwritten shared memory escapes the poison.
EMU_OPT ?= -O2
EMU_CXXFLAGS := -std=c++17 $(EMU_OPT) -g0 -mpopcnt -ffp-contract=off -fno-ipa-reference-addressable -fPIC -fvisibility=hidden -Wall -Wno-unknown-pragmas -Iemulator/include
EMU_BUILD := emulator/build
EMU_FAMILIES := $(patsubst kernels/%.cu,%,$(wildcard kernels/*.cu))
EMU_HEADERS := $(wildcard emulator/include/*.h)
EMU_KERNEL_OBJS := $(EMU_FAMILIES:%=$(EMU_BUILD)/%.kernel.o)
EMU_LIB := $(EMU_BUILD)/libgsae_emu.so
.PRECIOUS: $(EMU_BUILD)/%.kernel.cpp
EMU_PLANTED := $(patsubst emulator/planted/%.sh,$(EMU_BUILD)/planted/%/libgsae_emu.so,$(wildcard emulator/planted/*.sh))

.PHONY: emulator emulator-planted

# The fiber switch is x86-64 assembly: elsewhere the emulator is skipped like a missing compiler.
EMU_ARCH := $(shell uname -m)
EMU_HAVE_CXX := $(if $(filter x86_64,$(EMU_ARCH)),$(shell command -v $(EMU_CXX) 2>/dev/null))

emulator:
ifeq ($(EMU_HAVE_CXX),)
	@echo "✗ no $(EMU_CXX) on x86-64 ($(EMU_ARCH)): the emulated CUDA device is not built (CUDA tests skip without a GPU)"
else
	@$(MAKE) --no-print-directory $(EMU_LIB) && echo "✓ emulated CUDA device: $(EMU_LIB)" || { echo "✗ emulated CUDA device failed to build"; exit 1; }
endif

$(EMU_BUILD)/%.kernel.cpp: kernels/%.cu emulator/gen_registry.py
	@mkdir -p $(@D)
	python3 emulator/gen_registry.py $< > $@

$(EMU_BUILD)/%.kernel.o: $(EMU_BUILD)/%.kernel.cpp $(wildcard kernels/*.cuh) $(EMU_HEADERS)
	$(EMU_CXX) $(EMU_CXXFLAGS) -include cuda_emu.h -c $< -o $@

# The runtime (memory, scheduler, launch) as one relocatable object every device links.
EMU_RUNTIME_SRCS := $(wildcard emulator/*.cpp)
$(EMU_BUILD)/runtime.o: $(EMU_RUNTIME_SRCS) emulator/runtime.h $(EMU_HEADERS)
	@mkdir -p $(@D)/runtime
	@for f in $(EMU_RUNTIME_SRCS); do $(EMU_CXX) $(EMU_CXXFLAGS) -Iemulator -c $$f -o $(@D)/runtime/$$(basename $$f .cpp).o || exit 1; done
	ld -r -o $@ $(patsubst emulator/%.cpp,$(@D)/runtime/%.o,$(EMU_RUNTIME_SRCS))

$(EMU_LIB): $(EMU_KERNEL_OBJS) $(EMU_BUILD)/runtime.o emulator/shared.ld
	$(EMU_CXX) -shared -o $@ $(EMU_KERNEL_OBJS) $(EMU_BUILD)/runtime.o -Wl,-T,emulator/shared.ld -Wl,-Bsymbolic -lpthread

emulator-planted: emulator
ifneq ($(EMU_HAVE_CXX),)
	@$(MAKE) --no-print-directory $(EMU_FAULTS) $(EMU_PLANTED) && echo "✓ fault-kernel and planted-bug devices: $(EMU_BUILD)/faults, $(EMU_BUILD)/planted/*"
endif

# One planted bug: copy kernels/, let emulator/planted/<bug>.sh edit the copy (it fails when its
# pattern no longer matches), compile the copy's families, link with the shared runtime.
$(EMU_BUILD)/planted/%/libgsae_emu.so: emulator/planted/%.sh $(EMU_BUILD)/runtime.o $(wildcard kernels/*) $(EMU_HEADERS) emulator/gen_registry.py
	@rm -rf $(@D) && mkdir -p $(@D)/kernels
	@cp kernels/*.cu kernels/*.cuh $(@D)/kernels/
	@cd $(@D)/kernels && bash $(CURDIR)/$<
	@for f in $(EMU_FAMILIES); do python3 emulator/gen_registry.py $(@D)/kernels/$$f.cu > $(@D)/$$f.kernel.cpp && \
	  $(EMU_CXX) $(EMU_CXXFLAGS) -include cuda_emu.h -c $(@D)/$$f.kernel.cpp -o $(@D)/$$f.kernel.o || exit 1; done
	$(EMU_CXX) -shared -o $@ $(EMU_FAMILIES:%=$(@D)/%.kernel.o) $(EMU_BUILD)/runtime.o -Wl,-T,emulator/shared.ld -Wl,-Bsymbolic -lpthread

# The fault kernels of EmulatedDeviceTest (emulator/test/faults.cu), as a device of their own.
EMU_FAULTS := $(EMU_BUILD)/faults/libgsae_emu.so
$(EMU_FAULTS): emulator/test/faults.cu $(EMU_BUILD)/runtime.o $(EMU_HEADERS) emulator/gen_registry.py emulator/shared.ld
	@mkdir -p $(@D)
	python3 emulator/gen_registry.py $< > $(@D)/faults.kernel.cpp
	$(EMU_CXX) $(EMU_CXXFLAGS) -include cuda_emu.h -c $(@D)/faults.kernel.cpp -o $(@D)/faults.kernel.o
	$(EMU_CXX) -shared -o $@ $(@D)/faults.kernel.o $(EMU_BUILD)/runtime.o -Wl,-T,emulator/shared.ld -Wl,-Bsymbolic -lpthread

# make test runs the CUDA tests and the selftest on GPU 0 when nvidia-smi lists one, else on the
# emulated device (GSAE_TEST_DEVICE=emulated forces it); the emulator's own tests run either way.
GSAE_TEST_DEVICE ?= $(shell nvidia-smi -L 2>/dev/null | grep -q '^GPU 0' && echo 0 || echo emulated)
EMU_TEST_FLAGS := -Dgsae.cuda.device=$(GSAE_TEST_DEVICE) $(if $(EMU_HAVE_CXX),-Dgsae.emulator.required=true)

# ThreadSanitizer (optional, not part of make test): the kernels built with -fsanitize=thread,
# the runtime with GSAE_EMU_TSAN (each emulated thread a TSan fiber, barriers and collectives as
# release/acquire), driven by emulator/test/tsan_check.cpp; it must stay silent on the kernels and
# report the planted block_sum race.
EMU_TSAN := $(EMU_BUILD)/tsan
EMU_TSAN_FLAGS := $(filter-out -O2 -O1 -g0,$(EMU_CXXFLAGS)) -O1 -g
.PHONY: emulator-tsan
emulator-tsan:
ifeq ($(EMU_HAVE_CXX),)
	@echo "✗ no $(EMU_CXX) on x86-64: no ThreadSanitizer run"
else
	@bash emulator/tsan.sh "$(EMU_CXX)" "$(EMU_TSAN_FLAGS)" "$(EMU_FAMILIES)" $(EMU_TSAN)
endif
