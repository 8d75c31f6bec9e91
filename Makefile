# nonroot_initramfs workbench. `make help` lists the targets.
SHELL := /bin/bash
V ?= 6.12
S := scripts

.PHONY: help setup demo check field bench deb tree export drift build initramfs boot lint distro-config range-diff

help:
	@echo 'make demo          build a patched 6.12 kernel, boot it without and with'
	@echo '                   nonroot_initramfs, show the container runtime side by side'
	@echo 'make check         everything CI runs; ends with "N passed, N failed"'
	@echo 'make field [CASES="..."]'
	@echo '                   a Debian system with systemd, docker, podman, containerd,'
	@echo '                   nspawn and bwrap, booted from the initramfs and from a disk,'
	@echo '                   off and on; prints the table (part of make check)'
	@echo 'make bench [OUT=DIR] [BENCH="--runs 5 ..."]'
	@echo '                   the cost against stock and the workarounds, side by side'
	@echo '                   (about 30 min; scripts/bench.py -h)'
	@echo 'make deb [CONFIG=FILE]'
	@echo '                   a linux-image .deb (bindeb-pkg) of the patched 6.12 kernel;'
	@echo '                   CONFIG is a full config, e.g. from make distro-config;'
	@echo '                   default: the field kernel (scripts/deb.sh -h)'
	@echo 'make setup         install the toolchain (Debian packages, rust-src, bindgen, virtme-ng)'
	@echo 'make tree V=6.12   base + git am patches/v$$V into $$NRI_CACHE/git/linux-$$V'
	@echo 'make export V=6.12 write that tree'"'"'s "series" branch back to patches/v$$V'
	@echo 'make drift         fail when patches/ does not round-trip'
	@echo 'make build V=6.12  build the test kernel'
	@echo 'make lint          shellcheck and python syntax'
	@echo 'make range-diff    how the 6.12 and 7.3 series differ, patch by patch'
	@echo 'make distro-config FROM=CONFIG [OUT=FILE] [DEFAULT_ON=1]'
	@echo '                   a distribution'"'"'s 6.12 config with the feature on'

setup:
	$(S)/setup.sh

demo:
	$(S)/demo.sh

check:
	$(S)/check.sh

field:
	$(S)/field/run.sh $(CASES)

bench:
	$(S)/setup.sh 6.12
	python3 $(S)/bench.py $(if $(OUT),--out $(OUT)) $(BENCH)

deb:
	$(S)/setup.sh 6.12
	$(S)/deb.sh $(if $(CONFIG),--config $(CONFIG)) $(if $(OUT),--out $(OUT))

tree:
	$(S)/series.sh tree $(V)

export:
	$(S)/series.sh export $(V)

drift:
	$(S)/series.sh check 6.12
	$(S)/series.sh check 7.3

build:
	$(S)/build.sh $(V)

range-diff:
	$(S)/range-diff.sh

distro-config:
	@test -n "$(FROM)" || { echo "usage: make distro-config FROM=CONFIG [OUT=FILE] [DEFAULT_ON=1]"; exit 2; }
	@case "$(DEFAULT_ON)" in ''|0|1) ;; *) echo "DEFAULT_ON=$(DEFAULT_ON): want 1 (or 0, or nothing)"; exit 2 ;; esac
	$(S)/setup.sh 6.12
	$(S)/distro-config.sh $(if $(filter 1,$(DEFAULT_ON)),--default-on) $(FROM) $(OUT)

lint:
	shellcheck -x $(S)/*.sh $(S)/*/*.sh tools/testing/nonroot_initramfs/*.sh \
		tools/pivotable/pivotable tools/testing/nonroot_initramfs/bundle/*.sh \
		tools/testing/nonroot_initramfs/field/nri-field .ci/run
	python3 -m py_compile $(S)/*.py $(S)/*/*.py tools/testing/nonroot_initramfs/pivotable/*.py
	groff -man -ww -z tools/pivotable/pivotable.8 2>&1 | { ! grep .; }
