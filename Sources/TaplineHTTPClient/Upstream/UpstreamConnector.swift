import TaplineFlow
import TaplineNet
import TaplineTLS

/// Opens connections to origin servers: resolve the name (off the loop),
/// connect with a timeout (trying each address in turn), then the TLS
/// handshake for https targets, filling in the flow's timings as it goes.
///
/// Thread ownership: `connect` is called on, and completes on, `loop`.
public struct UpstreamConnector {
    public let loop: EventLoop
    public let configuration: HTTPClientConfiguration

    public init(loop: EventLoop, configuration: HTTPClientConfiguration) {
        self.loop = loop
        self.configuration = configuration
    }

    /// Connects to `target`. `alpn` is offered on TLS (mirrors what the client offered).
    /// `serverName` overrides the SNI (defaults to the target host).
    public func connect(to target: UpstreamTarget, alpn: [String] = [], serverName: String? = nil,
                 timings: FlowTimingsBox,
                 completion: @escaping (Result<UpstreamConnection, UpstreamFailure>) -> Void) {
        timings.value.dnsStart = .now()
        let loop = self.loop
        let configuration = self.configuration
        Resolver.resolve(host: target.host, port: target.port, on: loop) { result in
            timings.value.dnsEnd = .now()
            switch result {
            case .failure(let error):
                // `.resolveFailed` already reads "cannot resolve HOST: reason"; other errors do not name the step.
                let message: String
                if case .resolveFailed = error { message = error.description } else { message = "cannot resolve \(target.host): \(error)" }
                completion(.failure(UpstreamFailure(error: FlowError(.upstreamUnreachable, message))))
            case .success(let addresses):
                timings.value.connectStart = .now()
                Self.connectFirst(of: addresses[...], loop: loop, timeout: configuration.connectTimeout,
                                  lastError: nil, target: target) { result in
                    switch result {
                    case .failure(let failure):
                        completion(.failure(failure))
                    case .success(let tcp):
                        timings.value.connectEnd = .now()
                        tcp.highWatermark = configuration.writeHighWatermark
                        tcp.lowWatermark = configuration.writeLowWatermark
                        guard target.scheme == .https else {
                            completion(.success(UpstreamConnection(target: target, stream: PlainStream(connection: tcp), tls: nil)))
                            return
                        }
                        Self.startTLS(on: tcp, target: target, alpn: alpn, serverName: serverName ?? target.host,
                                      configuration: configuration, timings: timings, completion: completion)
                    }
                }
            }
        }
    }

    private static func connectFirst(of addresses: ArraySlice<SocketAddress>, loop: EventLoop, timeout: Int,
                                     lastError: NetError?, target: UpstreamTarget,
                                     completion: @escaping (Result<TCPConnection, UpstreamFailure>) -> Void) {
        guard let address = addresses.first else {
            let error = lastError ?? .resolveFailed(host: target.host, reason: "no addresses")
            let kind: FlowErrorKind = { if case .connectTimeout = error { return .upstreamTimeout } else { return .upstreamUnreachable } }()
            completion(.failure(UpstreamFailure(error: FlowError(kind, "cannot connect to \(target.hostPort): \(error)"))))
            return
        }
        TCPConnection.connect(loop: loop, to: address, timeoutMilliseconds: timeout) { result in
            switch result {
            case .success(let tcp): completion(.success(tcp))
            case .failure(let error):
                connectFirst(of: addresses.dropFirst(), loop: loop, timeout: timeout, lastError: error,
                             target: target, completion: completion)
            }
        }
    }

    private static func startTLS(on tcp: TCPConnection, target: UpstreamTarget, alpn: [String], serverName: String,
                                 configuration: HTTPClientConfiguration, timings: FlowTimingsBox,
                                 completion: @escaping (Result<UpstreamConnection, UpstreamFailure>) -> Void) {
        timings.value.tlsStart = .now()
        let engine: TLSEngine
        do {
            engine = try TLSEngine(client: TLSClientConfiguration(
                serverName: serverName, alpn: alpn, verifyPeer: configuration.verifyCertificates,
                additionalTrustPEMFile: configuration.additionalTrustFile))
        } catch {
            tcp.close()
            completion(.failure(UpstreamFailure(error: FlowError(.upstreamTLS, "\(target.hostPort): \(error)"))))
            return
        }
        var finished = false
        let timer = tcp.loop.scheduleTimer(milliseconds: configuration.connectTimeout) {
            guard !finished else { return }
            finished = true
            tcp.close()
            completion(.failure(UpstreamFailure(error: FlowError(.upstreamTimeout,
                "TLS handshake with \(target.hostPort) timed out"))))
        }
        let stream = TLSStream(connection: tcp, engine: engine) { result in
            guard !finished else { return }
            finished = true
            timer.cancel()
            timings.value.tlsEnd = .now()
            switch result {
            case .failure(let error):
                completion(.failure(UpstreamFailure(error: FlowError(.upstreamTLS, "\(target.hostPort): \(error)"))))
            case .success(let stream):
                let details = TLSDetails(engine: engine, serverName: serverName)
                completion(.success(UpstreamConnection(target: target, stream: stream, tls: details)))
            }
        }
        stream.start()
    }
}
