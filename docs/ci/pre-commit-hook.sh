#!/usr/bin/env sh
# .git/hooks/pre-commit — refuse a commit whose audit config or policy is invalid, and
# whose model fails an error gate. Install: cp docs/ci/pre-commit-hook.sh .git/hooks/pre-commit
# Plumbline itself comes from the packed tarball kept under tools/ (see the README, "Install"),
# installed once per clone; `npx plumbline` then runs the local copy.
set -e
[ -x node_modules/.bin/plumbline ] || npm install --offline --no-audit --no-fund --no-save ./tools/plumbline-audit-*.tgz
npx plumbline validate-config audit/audit.yaml audit/policy.yaml
npx plumbline audit --config audit/audit.yaml --policy-gates audit/policy.yaml --output .plumbline/result.json
