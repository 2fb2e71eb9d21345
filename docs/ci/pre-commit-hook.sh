#!/usr/bin/env sh
# .git/hooks/pre-commit — refuse a commit whose audit config or policy is invalid, and
# whose model fails an error gate. Install: cp docs/ci/pre-commit-hook.sh .git/hooks/pre-commit
set -e
npx plumbline validate-config audit/audit.yaml audit/policy.yaml
npx plumbline audit --config audit/audit.yaml --policy-gates audit/policy.yaml --output .plumbline/result.json
