# Thin wrapper over meson/ninja: the targets a person types.
#   make            build ./build/src/cli/sluice
#   make demo       install dependencies, build, then the seed's workflow: registry + control plane on loopback
#   make check      the whole test suite (unit, integration, e2e, fuzz smoke, ASan+UBSan)
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS (default 60)
#   make bench      side-by-side numbers against skopeo
BUILD ?= build
SLUICE := $(BUILD)/src/cli/sluice

.PHONY: all deps demo check check-fast fuzz bench format clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

deps:
	scripts/deps

demo: deps all
	scripts/demo

check: deps
	tests/run

# Unit and integration tests only, no ASan pass and no control plane.
check-fast: deps
	SLUICE_TESTS="unit integration" tests/run

fuzz: deps
	tests/fuzz/run $${FUZZ_SECONDS:-60}

bench: deps all
	bench/run

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
