// swift-tools-version:6.0
//
// Tapline: an intercepting proxy and protocol gateway.
// Layers (see docs/architecture.md); arrows point down only:
//
//   tapline (executable) -> TaplineCLI
//   TaplineCLI -> TaplineCapture, TaplineProxy
//   TaplineCapture -> TaplineFlow
//   TaplineProxy -> TaplineFlow, TaplineNet, TaplineTLS, TaplineWire
//   TaplineFlow -> TaplineWire
//   TaplineTLS -> COpenSSL, CTaplineShims
//   TaplineNet, TaplineWire -> (Glibc / Foundation only)
//
// No Swift package dependencies: only Debian's C libraries through pkg-config.
import Foundation
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

var targets: [Target] = [
    // MARK: C libraries from Debian (-dev packages), found with pkg-config.
    .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // Function-like macros that Swift cannot import, wrapped as real functions.
    .target(name: "CTaplineShims", dependencies: ["COpenSSL"]),

    // MARK: Wire: sans-I/O codecs in pure Swift.
    .target(name: "TaplineWire", swiftSettings: strict),
    // MARK: Net: epoll event loops, sockets, timers, resolver.
    .target(name: "TaplineNet", swiftSettings: strict),
    // MARK: TLS: OpenSSL memory-BIO engine and the interception CA.
    .target(name: "TaplineTLS", dependencies: ["COpenSSL", "CTaplineShims"], swiftSettings: strict),
    // MARK: Flow: the vocabulary the proxy emits and the capture layer records.
    .target(name: "TaplineFlow", dependencies: ["TaplineWire"], swiftSettings: strict),
    // MARK: Proxy: modes, protocol detection, flows.
    .target(name: "TaplineProxy",
            dependencies: ["TaplineWire", "TaplineNet", "TaplineTLS", "TaplineFlow"],
            swiftSettings: strict),
    // MARK: Capture: session format v1 writer and tolerant reader.
    .target(name: "TaplineCapture", dependencies: ["TaplineFlow", "TaplineWire"], swiftSettings: strict),
    // MARK: CLI: subcommands and terminal output.
    .target(name: "TaplineCLI",
            dependencies: ["TaplineProxy", "TaplineCapture", "TaplineTLS", "TaplineFlow", "TaplineNet"],
            swiftSettings: strict),
    .executableTarget(name: "tapline", dependencies: ["TaplineCLI"], swiftSettings: strict),

    // MARK: Tests
    .testTarget(name: "TaplineWireTests", dependencies: ["TaplineWire"]),
    .testTarget(name: "TaplineNetTests", dependencies: ["TaplineNet"]),
    .testTarget(name: "TaplineTLSTests", dependencies: ["TaplineTLS"]),
    .testTarget(name: "TaplineCaptureTests", dependencies: ["TaplineCapture", "TaplineFlow", "TaplineCLI"]),
    .testTarget(name: "TaplineProxyTests", dependencies: ["TaplineProxy", "TaplineCapture", "TaplineCLI"]),
]

// Fuzz targets are built only on request (`make fuzz`), because they link
// libFuzzer's own main: TAPLINE_FUZZ=1 swift build -Xswiftc -sanitize=fuzzer ...
if ProcessInfo.processInfo.environment["TAPLINE_FUZZ"] != nil {
    targets.append(.executableTarget(
        name: "FuzzHTTP1",
        dependencies: ["TaplineWire"],
        path: "Fuzz/FuzzHTTP1",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}

let package = Package(
    name: "Tapline",
    products: [
        .executable(name: "tapline", targets: ["tapline"]),
    ],
    targets: targets
)
