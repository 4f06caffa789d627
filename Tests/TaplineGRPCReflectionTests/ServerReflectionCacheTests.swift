import Dispatch
@testable import TaplineGRPCReflection
import TaplineHTTPClient
import TaplineNet
import XCTest

/// `ServerReflectionCache` and `ServerReflectionClient` on a real event loop over
/// scripted legs (no sockets): the proxy's ask never waits and starts one fetch per
/// upstream; the CLI's ask waits; v1 UNIMPLEMENTED is asked again on v1alpha; a server
/// without reflection is asked once and its failure kept.
final class ServerReflectionCacheTests: XCTestCase {
    private var group: EventLoopGroup!

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 1)
    }

    override func tearDown() {
        group.shutdown()
    }

    private let upstream = ServerReflectionUpstream(target: UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 50051),
                                                    priorKnowledgeHTTP2: true)

    /// Runs `body` on the loop and waits until it calls `done`.
    private func onLoop(_ body: @escaping (EventLoop, @escaping () -> Void) -> Void) {
        let finished = DispatchSemaphore(value: 0)
        let loop = group.loops[0]
        let bound = LoopBound(body, loop: loop)
        loop.execute { bound.value(bound.loop) { finished.signal() } }
        XCTAssertEqual(finished.wait(timeout: .now() + 10), .success, "the loop did not finish")
    }

    func testTheProxysAskNeverWaitsAndStartsOneFetch() {
        var firstAskWasNil = false
        var later: ServerReflectionResult?
        var opened = 0
        onLoop { loop, done in
            let source = ScriptedReflectionLegSource(loop: loop, servedVersions: [.v1alpha])
            let cache = ServerReflectionCache(source: source, loop: loop, timeoutMilliseconds: 5_000)
            firstAskWasNil = cache.readySchema(for: self.upstream) == nil
            XCTAssertNil(cache.readySchema(for: self.upstream), "a second ask while fetching starts nothing")
            cache.result(for: self.upstream) { _ in
                later = cache.readySchema(for: self.upstream)
                opened = source.opened
                XCTAssertEqual(source.returned, source.opened, "every leg goes back to the source")
                done()
            }
        }
        XCTAssertTrue(firstAskWasNil, "the first ask answers at once, without a schema")
        XCTAssertEqual(later?.version, .v1alpha)
        XCTAssertEqual(later?.services, ["shop.v1.Orders"])
        XCTAssertNotNil(later?.schema.message(named: "shop.v1.Money"), "the missing dependency was fetched")
        XCTAssertEqual(opened, 2, "one call on v1 (UNIMPLEMENTED), one on v1alpha")
    }

    func testAServerWithoutReflectionIsAskedOnceAndItsFailureKept() {
        var errors: [ServerReflectionError] = []
        var opened = 0
        onLoop { loop, done in
            let source = ScriptedReflectionLegSource(loop: loop, servedVersions: [])
            let cache = ServerReflectionCache(source: source, loop: loop, timeoutMilliseconds: 5_000)
            cache.result(for: self.upstream) { first in
                if case .failure(let error) = first { errors.append(error) }
                XCTAssertNil(cache.readySchema(for: self.upstream))
                cache.result(for: self.upstream) { second in
                    if case .failure(let error) = second { errors.append(error) }
                    opened = source.opened
                    done()
                }
            }
        }
        XCTAssertEqual(errors.map(\.kind), [.notServed, .notServed])
        XCTAssertEqual(opened, 2, "v1 and v1alpha once each; the kept failure asks nothing more")
    }

    func testAFailureIsAskedAgainOnlyOnceItsBackOffIsOver() {
        var openedBeforeBackOff = 0
        var openedAfterBackOff = 0
        var fetches = 0
        onLoop { loop, done in
            let source = ScriptedReflectionLegSource(loop: loop, servedVersions: [])
            var now: UInt64 = 1_000
            let cache = ServerReflectionCache(source: source, loop: loop, timeoutMilliseconds: 5_000,
                                              retryRule: ServerReflectionRetryRule(firstDelayMilliseconds: 10_000,
                                                                                   maxDelayMilliseconds: 60_000),
                                              clock: { now })
            // `fetched` runs after the waiters: the test ends in it, once the second fetch is heard.
            cache.fetched = { _, _ in
                fetches += 1
                guard fetches == 2 else { return }
                withExtendedLifetime(cache) {}  // the test's only reference to it (fetches hold it weakly)
                openedAfterBackOff = source.opened
                done()
            }
            cache.result(for: self.upstream) { _ in
                now += 9_999
                XCTAssertNil(cache.readySchema(for: self.upstream))
                openedBeforeBackOff = source.opened
                now += 1
                XCTAssertNil(cache.readySchema(for: self.upstream), "the retry never waits either")
                cache.result(for: self.upstream) { _ in }
            }
        }
        XCTAssertEqual(openedBeforeBackOff, 2, "within the back-off the kept failure is answered")
        XCTAssertEqual(openedAfterBackOff, 4, "after it, v1 and v1alpha are asked again, once")
        XCTAssertEqual(fetches, 2, "`fetched` hears each finished fetch")
    }
}
