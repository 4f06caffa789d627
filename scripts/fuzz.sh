#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs each for a
# bounded time:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      SECONDS per target (default 60);
#                                              TARGET: http1, websocket, capturejson, grpcframer,
#                                              grpcwebtext, protobufraw, protoparser, protobufjson, socks5 (default: all)
#
#   http1       FuzzHTTP1: HTTP/1 request/response parsers (whole vs split) + ClientHello sniffer
#   websocket   FuzzWebSocket: WebSocket message decoder (whole vs split, both roles,
#               with and without permessage-deflate), encoder round trip, bounded inflation
#   capturejson FuzzCaptureJSON: the capture reader's JSON parser (never crashes, re-encoding
#               round trip, same verdict and value as JSONSerialization; the direct line
#               reader declines a line or reads it as the parser does)
#   grpcframer  FuzzGRPCFramer: gRPC / gRPC-Web message framer (whole vs split vs byte by byte,
#               frames in place and within the limit)
#   grpcwebtext FuzzGRPCWebText: the gRPC-Web text (base64) decoder (whole vs split vs byte by
#               byte, the same bytes as Base64 run by run)
#   protobufraw FuzzProtobufRaw: protobuf wire reader and schemaless decode (never crashes,
#               decode and the reader's walk agree, writer round trip)
#   protoparser FuzzProtoParser: the .proto tokenizer, parser and resolution (never crash)
#   protobufjson FuzzProtobufJSON: schema-driven decode and proto3 JSON with a fixed schema (never
#               crash; JSON read back, encoded and decoded prints the same)
#   socks5      FuzzSOCKS5: the SOCKS5 server handshake (whole vs split vs byte by byte, with and
#               without credentials; outputs end at CONNECT or failure, bytes after it handed on)
#
# Crashing inputs are written to .build-fuzz/artifacts/; add each as a unit test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(http1 websocket capturejson grpcframer grpcwebtext protobufraw protoparser protobufjson socks5)
scratch=.build-fuzz
SWIFT="${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}"
bin_path="$(TAPLINE_FUZZ=1 "$SWIFT" build --scratch-path "$scratch" -c debug --show-bin-path)"
mkdir -p "$scratch/artifacts"
for target in "${targets[@]}"; do
    case "$target" in
        http1) product=FuzzHTTP1; corpus=Fuzz/corpus/http1 ;;
        websocket) product=FuzzWebSocket; corpus=Fuzz/corpus/websocket ;;
        capturejson) product=FuzzCaptureJSON; corpus=Fuzz/corpus/capturejson ;;
        grpcframer) product=FuzzGRPCFramer; corpus=Fuzz/corpus/grpcframer ;;
        grpcwebtext) product=FuzzGRPCWebText; corpus=Fuzz/corpus/grpcwebtext ;;
        protobufraw) product=FuzzProtobufRaw; corpus=Fuzz/corpus/protobufraw ;;
        protoparser) product=FuzzProtoParser; corpus=Fuzz/corpus/protoparser ;;
        protobufjson) product=FuzzProtobufJSON; corpus=Fuzz/corpus/protobufjson ;;
        socks5) product=FuzzSOCKS5; corpus=Fuzz/corpus/socks5 ;;
        *) echo "scripts/fuzz.sh: unknown target $target (http1, websocket, capturejson, grpcframer, grpcwebtext, protobufraw," \
               "protoparser, protobufjson or socks5)" >&2
           exit 2 ;;
    esac
    # The sanitizer link prints hundreds of harmless "Cannot export local symbol
    # __asan_*" warnings from ld.gold: keep the build output unless the build fails.
    if ! TAPLINE_FUZZ=1 "$SWIFT" build --scratch-path "$scratch" -c debug \
        -Xswiftc -sanitize=fuzzer,address --product "$product" > "$scratch/build-$target.log" 2>&1; then
        grep -v "Cannot export local symbol" "$scratch/build-$target.log" | tail -n 60 >&2
        echo "scripts/fuzz.sh: building $product failed (full log: $scratch/build-$target.log)" >&2
        exit 1
    fi
    # The seed corpus stays as committed; new inputs libFuzzer finds go to a scratch corpus.
    work="$scratch/corpus-$target"
    mkdir -p "$work"
    echo "==> fuzzing $product for $seconds s"
    # libFuzzer reports every new input; keep that in a log and show the summary,
    # or the log's end (the crash and its stack) when it fails.
    log="$scratch/fuzz-$target.log"
    if ! "$bin_path/$product" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$scratch/artifacts/$target-" -print_final_stats=1 \
        "$work" "$corpus" > "$log" 2>&1; then
        tail -n 80 "$log" >&2
        echo "scripts/fuzz.sh: $product failed; the input is in $scratch/artifacts/ (full log: $log)" >&2
        exit 1
    fi
    grep -E "^Done [0-9]+ runs|^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" || tail -n 5 "$log"
done
