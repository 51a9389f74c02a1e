#!/usr/bin/env bash
# The public array API conformance suite (data-apis/array-api-tests, vendored next to the
# project in ../shared/vendor) on a fast subset that passes: sorting, set, searching,
# manipulation, statistical, creation, data-type and indexing functions at
# --max-examples=10 (about a minute on 2 cores). The full run and its counts are in
# docs/array-api.md. Skipped with a message where the vendored suite is absent (a user's
# clone). Runs against the tensorcore importable in the current environment.
set -euo pipefail
cd "$(dirname "$0")/.."
suite="${ARRAY_API_TESTS_DIR:-../shared/vendor/array-api-tests}"
if [ ! -d "$suite" ]; then
    suite="$(cd .. && pwd)/../shared/vendor/array-api-tests"
fi
if [ ! -d "$suite" ]; then
    echo "array-api: vendored suite not found (../shared/vendor/array-api-tests); skipped"
    exit 0
fi
if ! python -c "import hypothesis, ndindex" 2>/dev/null; then
    echo "array-api: hypothesis/ndindex not installed; skipped"
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$suite" "$work/aat"
chmod -R u+w "$work/aat"
export ARRAY_API_TESTS_MODULE=tensorcore.array_api
export ARRAY_API_TESTS_SKIP_DTYPES=complex64,complex128,uint8,uint16,uint32,uint64,int8,int16
# run from outside the checkout so the installed (or PYTHONPATH) tensorcore is imported
cd "$work/aat"
python -m pytest -q -p no:cacheprovider --max-examples=10 \
    array_api_tests/test_sorting_functions.py array_api_tests/test_set_functions.py \
    array_api_tests/test_searching_functions.py array_api_tests/test_manipulation_functions.py \
    array_api_tests/test_statistical_functions.py array_api_tests/test_creation_functions.py \
    array_api_tests/test_data_type_functions.py array_api_tests/test_indexing_functions.py
