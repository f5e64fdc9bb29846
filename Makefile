# gsae front door: kernels, build, test, demo, bench, dist, venv.
# Finds a JDK 25 by itself: JAVA_HOME when it is 25+, else the newest 25+ under /usr/lib/jvm.
# The Python bridge (python/, gsae_torch) lives in a project-local venv, .venv/, made by `make venv`.

SHELL := /bin/bash
JAVA_HOME := $(shell bash scripts/find-jdk.sh)
export JAVA_HOME
MVN := ./mvnw -B -ntp
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
GPU_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90
KERNELS := $(wildcard kernels/*.cu)
FATBINS := $(patsubst kernels/%.cu,kernels/build/%.fatbin,$(KERNELS))
PYTHON ?= python3
VENV := .venv
PY_DEPS := torch transformers safetensors tokenizers datasets numpy tqdm pytest matplotlib
# pip's retries only wait where the default index is unreachable and a local one is configured.
PIP_RETRIES ?= 0

.PHONY: all build test demo bench bench-full dist kernels jdk clean venv experiment experiment-quick gcide mpi

all: build

include emulator/emulator.mk

jdk:
	@test -n "$(JAVA_HOME)" || { echo "✗ no JDK 25 found: set JAVA_HOME to a JDK 25 or install one under /usr/lib/jvm"; exit 1; }

kernels:
	@if [ -z "$(KERNELS)" ]; then echo "· no kernels/*.cu yet"; \
	elif [ -z "$(NVCC)" ]; then echo "✗ nvcc not found: skipping CUDA kernels (the CPU backends still build)"; \
	else $(MAKE) --no-print-directory $(FATBINS) && echo "✓ kernels built with $(NVCC)"; fi

kernels/build/%.fatbin: kernels/%.cu $(wildcard kernels/*.cuh)
	@mkdir -p kernels/build
	$(NVCC) -O3 -std=c++17 -Xptxas -v $(GPU_ARCH) -fatbin -o $@ $< 2> kernels/build/$*.ptxas.txt || { cat kernels/build/$*.ptxas.txt; exit 1; }

build: jdk kernels emulator
	$(MVN) -q -DskipTests install
	@echo "✓ build: ./gsae --help"

test: jdk kernels emulator emulator-planted venv mpi
	$(MVN) install $(EMU_TEST_FLAGS)
	$(VENV)/bin/python -m pytest -q python/tests

# Multi-process runs (#15) need an MPI; the tests run ranks under mpirun (gsae.comm.MpiGroupTest,
# python/tests/test_mpirun.py) and skip, saying so, without one. Open MPI comes from Debian when no
# Open MPI mpirun is here (an MPICH-only machine gets it too: the tests need Open MPI's; MPICH's run where
# present), as root like the rest of the toolchain here; only its runtime: gsae binds it through FFM.
# On a fresh machine of this kind the install took 7.7 s (bench/results/comm-2026-12-03.md).
mpi:
	@have=$$( (mpirun.openmpi --version || mpirun --version) 2>/dev/null | grep -m1 -E 'Open MPI|OpenRTE'); \
	if [ -n "$$have" ]; then echo "✓ mpi: $$have"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openmpi-bin >/dev/null; \
	then echo "✓ mpi: installed $$(mpirun.openmpi --version 2>/dev/null | head -1) from Debian"; \
	else echo "✗ no mpirun, and Open MPI could not be installed (as root: apt-get install openmpi-bin): the mpirun tests skip"; fi

# The stamp is written last, so an interrupted install is redone; editing pyproject.toml redoes it too.
venv: $(VENV)/.installed

$(VENV)/.installed: python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	PIP_RETRIES=$(PIP_RETRIES) $(VENV)/bin/pip install -q $(PY_DEPS)
	PIP_RETRIES=$(PIP_RETRIES) $(VENV)/bin/pip install -q -e ./python
	touch $@
	@echo "✓ venv: $(VENV)/bin/python -m gsae_torch --help"

demo: build
	./gsae demo --out runs/demo

bench: build
	bash bench/run.sh short

bench-full: build
	bash bench/run.sh full

dist: build
	bash scripts/dist.sh

clean:
	$(MVN) clean
	rm -rf kernels/build dist emulator/build

# Issue #9: TopK vs g-SAE on a small GPT-2 trained here on GCIDE (apt-get install dict-gcide).
# The model is trained once (30 min measured on 2 busy cores) and reused; the experiment continues where it stopped.
TINYLM ?= runs/tinylm
EXPERIMENT ?= runs/experiment

experiment: build venv gcide
	test -f $(TINYLM)/tinylm.json || nice -n 5 $(VENV)/bin/python -m gsae_torch tinylm --out $(TINYLM) --threads 1
	$(VENV)/bin/python -m gsae_torch experiment --model $(TINYLM) --out $(EXPERIMENT)

experiment-quick: build venv
	$(VENV)/bin/python -m gsae_torch tinylm --quick --out runs/tinylm-quick
	$(VENV)/bin/python -m gsae_torch experiment --quick --model runs/tinylm-quick --out runs/experiment-quick

# The corpus comes from Debian; install it when it is missing (as root, like the rest of the toolchain here).
gcide:
	@test -f /usr/share/dictd/gcide.dict.dz || { apt-get update -qq && apt-get install -y -qq dict-gcide; }
