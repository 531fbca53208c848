#!/usr/bin/env bash
# Run Swift's own functional tests (the `swift` sdist's test/functional, minus s3api) against a
# running portal and print `swift functional: passed=N failed=N skipped=N`.
#
#   scripts/swift_functional/run.sh http://127.0.0.1:PORT WORKDIR
#
# The portal's data dir (PORTAL_DATA_DIR) must be exported: accounts are created through the
# Django services by scripts/tempest/provision.py. The sdist is downloaded once into
# build/swift-sdist (git-ignored) and .venv-swift is created once; both are reused afterwards.
# SWIFT_TEST_FILTER (a pytest -k expression) narrows the run. SWIFT_TEST_PATHS picks the paths
# (default: test/functional) and SWIFT_TEST_FILES the module names collected there (default:
# "test_*.py tests.py": tests.py holds the ~216 core account/container/object cases, which
# pytest's default pattern misses; naming the file next to its directory does not work, pytest
# drops it as a duplicate). tests.py sorts last, and each of its test classes empties the primary
# account before it starts, so what the other modules left behind does not count. Exit status:
# 0 if the run happened (the caller judges the counts), 1 if it could not run at all.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
URL=${1:?portal URL}
WORK=${2:?work dir}
SWIFT_VERSION=${SWIFT_VERSION:-2.38.3}
SDIST_DIR="$ROOT/build/swift-sdist"
SWIFT_VENV=${SWIFT_VENV:-$ROOT/.venv-swift}
SRC="$SDIST_DIR/swift-$SWIFT_VERSION"

log() { printf 'swift functional: %s\n' "$*" >&2; }

if [[ ! -f "$SDIST_DIR/swift-$SWIFT_VERSION.tar.gz" ]]; then
    log "downloading the swift $SWIFT_VERSION sdist into $SDIST_DIR"
    mkdir -p "$SDIST_DIR"
    "$ROOT/.venv/bin/pip" download --quiet --no-deps --no-binary :all: "swift==$SWIFT_VERSION" -d "$SDIST_DIR"
fi
[[ -d "$SRC/test/functional" ]] || tar -xzf "$SDIST_DIR/swift-$SWIFT_VERSION.tar.gz" -C "$SDIST_DIR"
if [[ ! -x "$SWIFT_VENV/bin/pytest" ]]; then
    log "creating $SWIFT_VENV"
    python3.11 -m venv "$SWIFT_VENV"
    "$SWIFT_VENV/bin/pip" install --quiet "$SDIST_DIR/swift-$SWIFT_VERSION.tar.gz" pytest pytest-subtests stestr \
        python-swiftclient python-keystoneclient
fi

"$ROOT/.venv/bin/python" "$ROOT/scripts/tempest/provision.py" "$ROOT/scripts/swift_functional/accounts.yaml" >&2
sed -e "s|@PORTAL_URL@|$URL|g" "$ROOT/scripts/swift_functional/swift-test.conf.in" >"$WORK/swift-test.conf"

read -r -a paths <<<"${SWIFT_TEST_PATHS:-test/functional}"
out="$WORK/swift-functional.out"
status=0
(
    cd "$SRC"
    SWIFT_TEST_CONFIG_FILE="$WORK/swift-test.conf" HOME="$WORK" timeout "${SWIFT_TEST_TIMEOUT:-900}" \
        "$SWIFT_VENV/bin/pytest" "${paths[@]}" --ignore=test/functional/s3api -p no:cacheprovider -q -rfE \
        -o "python_files=${SWIFT_TEST_FILES:-test_*.py tests.py}" \
        --tb=line -o junit_family=xunit2 --junitxml="$WORK/swift-functional.xml" ${SWIFT_TEST_FILTER:+-k "$SWIFT_TEST_FILTER"}
) >"$out" 2>&1 || status=$?
summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped)|[0-9]+ passed|[0-9]+ failed' "$out" | tail -n 1 || true)
count() { sed -nE "s/.*[^0-9]([0-9]+) $1.*/\1/p; s/^([0-9]+) $1.*/\1/p" <<<"$summary" | head -n 1; }
passed=$(count passed)
failed=$(count failed)
errors=$(count error)
skipped=$(count skipped)
failed=$((${failed:-0} + ${errors:-0}))
grep -E '^(FAILED|ERROR) ' "$out" | sed -E 's/ - .{0,160}.*//' | head -n 200 >&2 || true
if [[ -z "$summary" ]]; then
    log "no summary (pytest exited $status); tail of its output:"
    tail -n 40 "$out" >&2
    exit 1
fi
echo "swift functional: passed=${passed:-0} failed=$failed skipped=${skipped:-0}"
