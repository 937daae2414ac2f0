#!/usr/bin/env bash
#
# asioctx set-up: installs what is missing (Debian 12 packages, as root), builds, runs.
#
#   ./setup.sh demo    build and run the gateway demo (arguments go to it: --listen ...)
#   ./setup.sh test    build and run every test: g++ (warnings as errors) with the
#                      package consumers, ASan+UBSan, TSan (clang), libFuzzer, and b2
#                      (diagnostics compiled out); then the release build of the library
#                      and the benchmarks
#   ./setup.sh bench   build (release) and run the benchmarks (Google Benchmark, then wrk)
#   ./setup.sh deps    only install the packages
#
set -euo pipefail
cd "$(dirname "$0")"

packages=(
    g++ clang libclang-rt-14-dev cmake ninja-build ccache git pkg-config
    libboost1.81-dev libboost-test1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-context1.81-dev
    libboost-stacktrace1.81-dev
    libboost1.81-tools-dev libssl-dev libbenchmark-dev python3-jwt python3-cryptography wrk
    libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
    golang-go golang-google-grpc-dev protoc-gen-go-grpc golang-goprotobuf-dev python3-grpcio python3-protobuf
)

# Installs what is missing of the packages above and of any named as arguments.
install_missing() {
    local missing=()
    for p in "${packages[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return
    fi
    echo "setup: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

jobs=$(nproc)

# Extra arguments for every CMake configure and for b2 (the test run sets them: line
# tables only, unity batches for the test binaries).
configure_args=()
b2_args=()

# build_preset NAME [extra configure arguments]
build_preset() {
    cmake --preset "$1" "${configure_args[@]}" "${@:2}" >/dev/null
    cmake --build --preset "$1" -j "$jobs"
}

# Prints a step's title with the time since the run began.
step() {
    echo "== $1 (at $(( $(date +%s) - start ))s)"
}

passed=0
failed=0

# Runs ctest for a preset and adds its counts to the totals.
run_ctest() {
    local preset=$1 log
    log=$(mktemp)
    set +e
    ctest --preset "$preset" -j "$jobs" 2>&1 | tee "$log"
    set -e
    local line
    line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -n 1 || true)
    if [ -z "$line" ]; then
        echo "setup: ctest ($preset) printed no summary"
        failed=$((failed + 1))
    else
        local total bad
        total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
        bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
        passed=$((passed + total - bad))
        failed=$((failed + bad))
    fi
    rm -f "$log"
}

run_b2() {
    set +e
    # With the diagnostics registry compiled out: every test and example in that layout too.
    b2 -j"$jobs" -q warnings-as-errors=on define=ASIOCTX_NO_DIAGNOSTICS "${b2_args[@]}" 2>&1 | tail -n 20
    local rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -eq 0 ]; then
        echo "setup: b2 build and tests passed"
        passed=$((passed + 1))
    else
        echo "setup: b2 build or tests FAILED"
        failed=$((failed + 1))
    fi
}

case "${1:-}" in
    deps)
        install_missing
        ;;
    demo)
        install_missing
        cmake --preset default >/dev/null
        cmake --build --preset default -j "$jobs" --target gateway
        ./build/default/example/gateway "${@:2}"
        ;;
    test)
        install_missing
        start=$(date +%s)
        # Line tables only (-g1): backtraces and sanitizer reports keep functions, files and
        # lines; compiling takes about half the time of full debug information.
        # The test binaries compile in batches of files that share their instantiations.
        configure_args=(-DASIOCTX_DEBUG_INFO=lines -DASIOCTX_UNITY_TESTS=ON)
        b2_args=(cxxflags=-g1)
        step "g++, warnings as errors, with package consumers"
        # The benchmarks are built once, by the release step below.
        build_preset default -DASIOCTX_BUILD_BENCH=OFF
        run_ctest default
        step "ASan + UBSan"
        build_preset asan
        ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest asan
        step "TSan (clang)"
        build_preset tsan
        TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/test/tsan.supp" run_ctest tsan
        step "libFuzzer (clang): the header parsers, for a bounded time"
        build_preset fuzz
        run_ctest fuzz
        step "b2"
        run_b2
        # What ./setup.sh bench builds: optimiser warnings appear only at -O3.
        step "release (g++ -O3, warnings as errors): the library and the benchmarks build"
        if build_preset release; then
            passed=$((passed + 1))
        else
            echo "setup: release build FAILED"
            failed=$((failed + 1))
        fi
        echo "setup: test run took $(( $(date +%s) - start ))s"
        echo "asioctx: $passed passed, $failed failed"
        [ "$failed" -eq 0 ]
        ;;
    bench)
        # callgrind counts instructions (bench/http_instructions.sh); Go's net/http with
        # golang-jwt is the Go baseline of bench/http_bench.sh, and Go's context package
        # that of bench/context_vs_go.sh (both in bench/go)
        install_missing valgrind golang-go golang-github-golang-jwt-jwt-dev
        build_preset release
        ./build/release/bench/asioctx_bench "${@:2}"
        ./build/release/bench/asioctx_http_bench "${@:2}"
        ./build/release/bench/asioctx_grpc_bench "${@:2}"
        bench/context_vs_go.sh build/release
        bench/diagnostics_bench.sh build/release
        bench/http_client_bench.sh build/release
        bench/http_bench.sh build/release
        bench/http_instructions.sh build/release
        ;;
    *)
        sed -n '3,12p' "$0"
        exit 2
        ;;
esac
