import Dispatch
import Foundation
import TaplineGRPCReflection
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// `--reflect URL` with the options that go with it (`--insecure`, `--upstream-ca FILE`,
/// `--timeout SECONDS`, as for `tapline replay`): a server whose gRPC reflection
/// gives the schema (docs/grpc.md, "Schemas").
struct ProtoReflectionOptions {
    static let usage = """
      --reflect URL           ask the gRPC server at h2c://host:port or https://host:port for its schema
                              (server reflection, v1 then v1alpha)
      --insecure              --reflect: do not verify the server's TLS certificate
      --upstream-ca FILE      --reflect: also trust the CA certificates in FILE (PEM)
      --timeout SECONDS       --reflect: give up after this long (default 10)
    """

    let upstream: ServerReflectionUpstream
    let client: HTTPClientConfiguration
    let timeoutSeconds: Int

    /// Takes the options from `arguments`; nil when `--reflect` is not among them.
    init?(taking arguments: inout CommandArguments) throws(UsageError) {
        let insecure = arguments.flag("--insecure")
        let caFile = try arguments.value("--upstream-ca")
        let timeout = try arguments.integer("--timeout", range: 1...86_400)
        guard let url = try arguments.value("--reflect") else {
            if insecure || caFile != nil || timeout != nil {
                throw UsageError("--insecure, --upstream-ca and --timeout go with --reflect URL")
            }
            return nil
        }
        do {
            upstream = try ServerReflectionUpstream(url: url)
        } catch {
            throw UsageError("--reflect: \(error)")
        }
        var client = HTTPClientConfiguration()
        client.verifyCertificates = !insecure
        if let caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else { throw UsageError("--upstream-ca: cannot read \(caFile)") }
            client.additionalTrustFile = caFile
        }
        self.client = client
        timeoutSeconds = timeout ?? 10
    }

    /// `--reflect URL` with settings a command already has (`tapline replay`'s own
    /// `--insecure`, `--upstream-ca` and `--timeout`).
    init(url: String, client: HTTPClientConfiguration, timeoutSeconds: Int) throws(UsageError) {
        do {
            upstream = try ServerReflectionUpstream(url: url)
        } catch {
            throw UsageError("--reflect: \(error)")
        }
        self.client = client
        self.timeoutSeconds = timeoutSeconds
    }

    /// Asks the server, on an event loop of its own; returns once it answered, failed or timed out.
    func fetch(_ query: ServerReflectionQuery) throws(ServerReflectionError) -> ServerReflectionResult {
        let group: EventLoopGroup
        do {
            group = try EventLoopGroup(threads: 1)
        } catch {
            throw ServerReflectionError(.connectionFailed("cannot start an event loop: \(error)"), upstream: upstream.description)
        }
        defer { group.shutdown() }
        let loop = group.loops[0]
        let outcome = FetchOutcome()
        let done = DispatchSemaphore(value: 0)
        let (client, upstream) = (client, upstream)
        let timeoutMilliseconds = timeoutSeconds * 1_000
        loop.execute {
            let connector = UpstreamConnector(loop: loop, configuration: client)
            let source = PooledUpstreamLegSource(connector: connector, limits: HTTP1Limits(), idleMilliseconds: 1_000)
            ServerReflectionClient.start(query, upstream: upstream, source: source, loop: connector.loop,
                                         timeoutMilliseconds: timeoutMilliseconds) { result in
                source.closeAll()
                outcome.set(result)
                done.signal()
            }
        }
        done.wait()
        guard let result = outcome.get() else { preconditionFailure("the reflection client finished without a result") }
        return try result.get()
    }
}

/// The result handed from the loop thread to the waiting command thread.
/// Thread-safe: guarded by a lock.
private final class FetchOutcome: @unchecked Sendable {
    private let mutex = NSLock()
    private var result: Result<ServerReflectionResult, ServerReflectionError>?

    func set(_ result: Result<ServerReflectionResult, ServerReflectionError>) { mutex.withLock { self.result = result } }
    func get() -> Result<ServerReflectionResult, ServerReflectionError>? { mutex.withLock { result } }
}
