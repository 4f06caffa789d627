// swift-tools-version:6.0
//
// Tapline: an intercepting proxy and protocol gateway.
// Layers (see docs/architecture.md); arrows point down only:
//
//   tapline (executable) -> TaplineCLI
//   TaplineCLI -> TaplineReplay, TaplineExport, TaplineCapture, TaplineProxy, TaplineHTTPClient (UpstreamTarget),
//                 TaplineHTTP2 (error code names), TaplineProtobuf (proto describe, proto decode-raw),
//                 TaplineGRPCReflection (proto describe/decode --reflect)
//   TaplineGRPCReflection -> TaplineHTTPClient (legs), TaplineProtobuf (descriptors, messages), TaplineNet (the loop),
//                            TaplineFlow, TaplineWire (gRPC framing): asks a server's reflection for its schema
//   TaplineReplay -> TaplineHTTPClient (legs, pool, connector), TaplineNet (the loop), TaplineExport,
//                    TaplineCapture, TaplineTLS (SHA-256), TaplineFlow, TaplineWire (session diff and
//                    replay), TaplineProxy (mock: the proxy's server with an UpstreamLegSource of recorded
//                    responses), TaplineCompression (a live request body's Content-Encoding undone as
//                    LoadedBody undoes a recorded one's)
//   TaplineExport -> TaplineCapture, TaplineCompression
//   TaplineCapture -> TaplineFlow, CTaplineLinux (sync_file_range)
//   TaplineProxy -> TaplineHTTPClient, TaplineFlow, TaplineNet, TaplineTLS, TaplineHTTP2, TaplineCompression,
//                   TaplineWire
//   TaplineHTTPClient -> TaplineNet, TaplineTLS, TaplineHTTP2, TaplineWire, TaplineFlow
//                        (connections, upstream legs, HTTP/1<->HTTP/2 message translation; no proxy policy)
//   TaplineFlow -> TaplineWire
//   TaplineHTTP2 -> CNghttp2, CTaplineNghttp2Memory (per-session pooled allocator), TaplineWire
//   CTaplineNghttp2Memory -> CNghttp2 (nghttp2_mem's callback types)
//   TaplineTLS -> COpenSSL, CTaplineShims
//   TaplineCompression -> CZlib, CBrotli, CZstd
//   TaplineNet -> CTaplineLinux (epoll, eventfd, accept4)
//   TaplineProtobuf -> TaplineWire, TaplineCompression (.proto schemas and descriptor sets, protobuf wire
//                      format, schema-driven and schemaless decode, proto3 JSON mapping (TaplineWire's JSON),
//                      gRPC message decompression and status details;
//                      reading files only in ProtoFileLoader)
//   TaplineWire -> (Swift standard library only)
//
// No Swift package dependencies: only Debian's C libraries through pkg-config.
import Foundation
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // Release builds drop the per-access runtime exclusivity check on class
    // properties (swift_beginAccess and its thread-local lookups, a large share of a
    // proxied request: docs/performance.md). Debug builds, which `swift test` uses,
    // keep every dynamic check, so a violation still traps there.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

var targets: [Target] = [
    // MARK: C libraries from Debian (-dev packages), found with pkg-config.
    .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CBrotli", pkgConfig: "libbrotlidec", providers: [.apt(["libbrotli-dev"])]),
    .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    // Function-like macros that Swift cannot import, wrapped as real functions.
    .target(name: "CTaplineShims", dependencies: ["COpenSSL"]),
    // epoll, eventfd, accept4 and sync_file_range, which Swift's Glibc module does not import.

    // MARK: Wire: sans-I/O codecs in pure Swift (HTTP/1, WebSocket, gRPC framing, JSON, base64).
    .target(name: "TaplineWire", swiftSettings: strict),
    // MARK: Compression: zlib (gzip, deflate, permessage-deflate), brotli, zstd.
    .target(name: "TaplineCompression", dependencies: ["CZlib", "CBrotli", "CZstd"], swiftSettings: strict),
    // MARK: Protobuf: .proto schemas (parser, descriptor model, built-in well-known types), wire format
    // reader/writer, schemaless (decode_raw) decoding, gRPC message payloads.
    .target(name: "TaplineProtobuf", dependencies: ["TaplineWire", "TaplineCompression"],
            exclude: ["Schema/WellKnownTypes/README.md"], swiftSettings: strict),
    // MARK: HTTP2: nghttp2 as a sans-I/O session.
    // A pooled heap for each nghttp2 session (nghttp2_mem callbacks, no locks: one loop thread).
    .target(name: "CTaplineNghttp2Memory", dependencies: ["CNghttp2"]),
    .target(name: "TaplineHTTP2", dependencies: ["CNghttp2", "CTaplineNghttp2Memory", "TaplineWire"],
            swiftSettings: strict),
    // MARK: Net: epoll event loops, sockets, timers, resolver.
    .target(name: "CTaplineLinux"),
    .target(name: "TaplineNet", dependencies: ["CTaplineLinux"], swiftSettings: strict),
    // MARK: TLS: OpenSSL memory-BIO engine and the interception CA.
    .target(name: "TaplineTLS", dependencies: ["COpenSSL", "CTaplineShims"], swiftSettings: strict),
    // MARK: Flow: the vocabulary the proxy emits and the capture layer records.
    .target(name: "TaplineFlow", dependencies: ["TaplineWire"], swiftSettings: strict),
    // MARK: HTTPClient: byte streams, the upstream connector, HTTP/1.1 and HTTP/2 client connections,
    // the upstream legs (HTTPClientLeg) and the message translation and forwarding rules they apply.
    .target(name: "TaplineHTTPClient",
            dependencies: ["TaplineWire", "TaplineNet", "TaplineTLS", "TaplineFlow", "TaplineHTTP2"],
            swiftSettings: strict),
    // MARK: Proxy: modes, protocol detection, flows.
    .target(name: "TaplineProxy",
            dependencies: ["TaplineHTTPClient", "TaplineWire", "TaplineNet", "TaplineTLS", "TaplineFlow",
                           "TaplineHTTP2", "TaplineCompression"],
            swiftSettings: strict),
    // MARK: Capture: session format v1 writer and tolerant reader.
    .target(name: "TaplineCapture", dependencies: ["TaplineFlow", "TaplineWire", "CTaplineLinux"],
            swiftSettings: strict),
    // MARK: Export: Postman Collection v2.1, HAR 1.2 (export and import), curl.
    .target(name: "TaplineExport",
            dependencies: ["TaplineCapture", "TaplineFlow", "TaplineWire", "TaplineCompression", "TaplineProtobuf"],
            swiftSettings: strict),
    // MARK: Replay: comparing sessions flow by flow (`tapline diff`), re-sending a session (`tapline replay`),
    // serving it back (`tapline mock`).
    .target(name: "TaplineReplay",
            dependencies: ["TaplineHTTPClient", "TaplineNet", "TaplineProxy", "TaplineExport", "TaplineCapture",
                           "TaplineTLS", "TaplineFlow", "TaplineWire", "TaplineCompression", "TaplineProtobuf"],
            swiftSettings: strict),
    // MARK: GRPCReflection: a gRPC server reflection client over upstream legs, and the per-upstream cache.
    .target(name: "TaplineGRPCReflection",
            dependencies: ["TaplineHTTPClient", "TaplineProtobuf", "TaplineNet", "TaplineFlow", "TaplineWire"],
            exclude: ["Proto/README.md"], swiftSettings: strict),
    // MARK: CLI: subcommands and terminal output.
    .target(name: "TaplineCLI",
            dependencies: ["TaplineReplay", "TaplineGRPCReflection", "TaplineProxy", "TaplineHTTPClient", "TaplineCapture", "TaplineTLS", "TaplineFlow",
                           "TaplineNet", "TaplineExport", "TaplineHTTP2", "TaplineProtobuf"],
            swiftSettings: strict),
    .executableTarget(name: "tapline", dependencies: ["TaplineCLI"], swiftSettings: strict),

    // MARK: Tests
    .testTarget(name: "TaplineWireTests", dependencies: ["TaplineWire"]),
    .testTarget(name: "TaplineProtobufTests", dependencies: ["TaplineProtobuf", "TaplineWire"]),
    .testTarget(name: "TaplineGRPCReflectionTests",
                dependencies: ["TaplineGRPCReflection", "TaplineHTTPClient", "TaplineNet", "TaplineFlow", "TaplineProtobuf", "TaplineWire"]),
    .testTarget(name: "TaplineNetTests", dependencies: ["TaplineNet"]),
    .testTarget(name: "TaplineTLSTests", dependencies: ["TaplineTLS", "TaplineTestSupport"]),
    .testTarget(name: "TaplineCaptureTests",
                dependencies: ["TaplineCapture", "TaplineFlow", "TaplineCLI", "TaplineTestSupport"]),
    .testTarget(name: "TaplineCompressionTests", dependencies: ["TaplineCompression"]),
    .testTarget(name: "TaplineHTTP2Tests", dependencies: ["TaplineHTTP2", "CTaplineNghttp2Memory", "CNghttp2"]),
    .testTarget(name: "TaplineReplayTests",
                dependencies: ["TaplineReplay", "TaplineHTTPClient", "TaplineNet", "TaplineExport", "TaplineCapture",
                               "TaplineFlow", "TaplineWire", "TaplineCLI", "TaplineTestSupport", "TaplineProtobuf"]),
    .testTarget(name: "TaplineExportTests", dependencies: ["TaplineExport", "TaplineCapture", "TaplineFlow", "TaplineCLI",
                                                         "TaplineProtobuf", "TaplineWire"]),
    // Test doubles and helpers shared by the test targets (a scripted ByteStream, a collecting FlowRecorder,
    // the servers a test starts and the tools it runs, what it does when the machine lacks one).
    .target(name: "TaplineTestSupport", dependencies: ["TaplineHTTPClient", "TaplineNet", "TaplineFlow"],
            path: "Tests/TaplineTestSupport", swiftSettings: strict),
    .testTarget(name: "TaplineHTTPClientTests",
                dependencies: ["TaplineHTTPClient", "TaplineNet", "TaplineTLS", "TaplineTestSupport"]),
    .testTarget(name: "TaplineProxyTests",
                dependencies: ["TaplineProxy", "TaplineHTTPClient", "TaplineCapture", "TaplineCLI", "TaplineTestSupport"]),
]

// Fuzz targets are built only on request (`make fuzz`), because they link
// libFuzzer's own main: TAPLINE_FUZZ=1 swift build -Xswiftc -sanitize=fuzzer ...
if ProcessInfo.processInfo.environment["TAPLINE_FUZZ"] != nil {
    targets.append(.target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"))
    targets.append(.executableTarget(
        name: "FuzzHTTP1",
        dependencies: ["FuzzDriver", "TaplineWire"],
        path: "Fuzz/FuzzHTTP1",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    targets.append(.executableTarget(
        name: "FuzzWebSocket",
        dependencies: ["FuzzDriver", "TaplineWire", "TaplineCompression"],
        path: "Fuzz/FuzzWebSocket",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    targets.append(.executableTarget(
        name: "FuzzCaptureJSON",
        dependencies: ["FuzzDriver", "TaplineCapture"],
        path: "Fuzz/FuzzCaptureJSON",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    targets.append(.executableTarget(
        name: "FuzzGRPCFramer",
        dependencies: ["FuzzDriver", "TaplineWire"],
        path: "Fuzz/FuzzGRPCFramer",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    targets.append(.executableTarget(
        name: "FuzzGRPCWebText",
        dependencies: ["FuzzDriver", "TaplineWire"],
        path: "Fuzz/FuzzGRPCWebText",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    targets.append(.executableTarget(
        name: "FuzzProtobufRaw",
        dependencies: ["FuzzDriver", "TaplineProtobuf"],
        path: "Fuzz/FuzzProtobufRaw",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    targets.append(.executableTarget(
        name: "FuzzProtoParser",
        dependencies: ["FuzzDriver", "TaplineProtobuf"],
        path: "Fuzz/FuzzProtoParser",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    targets.append(.executableTarget(
        name: "FuzzSOCKS5",
        dependencies: ["FuzzDriver", "TaplineWire"],
        path: "Fuzz/FuzzSOCKS5",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    targets.append(.executableTarget(
        name: "FuzzProtobufJSON",
        dependencies: ["FuzzDriver", "TaplineProtobuf", "TaplineWire"],
        path: "Fuzz/FuzzProtobufJSON",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}

let package = Package(
    name: "Tapline",
    products: [
        .executable(name: "tapline", targets: ["tapline"]),
    ],
    targets: targets
)
