# The root Makefile drives Meson: `make`, `make check`, `make install PREFIX=DIR`.
# Build directories:
#   build/       release-ish build (what `make install` installs)
#   build-asan/  ASan+UBSan build the tests run in
#   build-fuzz/  clang + libFuzzer harnesses
#   build-tsan/  ThreadSanitizer build of what runs threads (the classifier)
PREFIX ?= /usr/local
DESTDIR ?=
MESON ?= meson
WERROR ?= $(if $(CI),--werror,)

.PHONY: all build asan fuzz tsan check install demo bench clean

all: build

build:
	@test -f build/build.ninja || $(MESON) setup build --prefix=$(abspath $(PREFIX)) $(WERROR)
	$(MESON) compile -C build

asan:
	@test -f build-asan/build.ninja || $(MESON) setup build-asan -Db_sanitize=address,undefined -Db_lundef=false $(WERROR)
	$(MESON) compile -C build-asan

fuzz:
	@test -f build-fuzz/build.ninja || CC=clang $(MESON) setup build-fuzz -Dfuzz=true \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link $(WERROR)
	$(MESON) compile -C build-fuzz

tsan:
	@test -f build-tsan/build.ninja || $(MESON) setup build-tsan -Db_sanitize=thread $(WERROR)
	$(MESON) compile -C build-tsan tests/test-rules vigia:executable bench/vigia-gen-day

# Every test under ASan+UBSan, the classifier's threads under TSan, then
# each fuzzer briefly on its seed corpus.
check: asan fuzz tsan
	bash tests/run-all.sh

# The prefix is applied with a reconfigure and a build before installing:
# `meson install --no-rebuild` would install to the previous prefix.
install: build
	$(MESON) configure build --prefix=$(abspath $(PREFIX))
	$(MESON) compile -C build
	DESTDIR=$(DESTDIR) $(MESON) install -C build --no-rebuild

# The main job: a three-sensor alliance in network namespaces, attacked
# with real tools, and the central pipeline (root; without root, the
# pipeline on generated and bundled captures).  Results in ./out/.
demo: build
	bash scripts/demo-alliance.sh

bench: build
	bash bench/run.sh

clean:
	rm -rf build build-asan build-fuzz build-tsan
