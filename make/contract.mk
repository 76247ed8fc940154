# The shop's contract suite (tests/contract) and its real-process companions.
#   make contract                                     against a monolith it starts itself
#   make contract CONTRACT_BASE_URL=http://127.0.0.1:8080   against a running shop (the proxy)
#   make test-concurrency    checkout/pay/cancel races on SQLite (+ PostgreSQL when configured)
#   make fuzz                schemathesis against contract/openapi.yaml
CONTRACT_BASE_URL ?=
CONTRACT_ARGS ?=

.PHONY: contract test-concurrency fuzz
contract: install-test
	$(BIN)/pytest tests/contract -q $(if $(CONTRACT_BASE_URL),--base-url $(CONTRACT_BASE_URL)) $(CONTRACT_ARGS)

test-concurrency: install-test
	$(BIN)/pytest tests/concurrency -q

fuzz: install-test
	$(BIN)/pytest tests/fuzz -q
