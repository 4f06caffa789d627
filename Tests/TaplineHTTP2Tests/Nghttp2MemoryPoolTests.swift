import CNghttp2
import CTaplineNghttp2Memory
import XCTest

/// The per-session pooled heap nghttp2 allocates from (`tapline_nghttp2_memory_pool_*`):
/// blocks keep their bytes, are 16-byte aligned, calloc zeroes reused blocks, realloc
/// moves between pooled and unpooled sizes, the free lists stay under their limit, and
/// a real nghttp2 session frees everything back into it on `nghttp2_session_del`.
final class Nghttp2MemoryPoolTests: XCTestCase {
    static let maxPooled = Int(TAPLINE_NGHTTP2_POOL_MAX_POOLED_SIZE)
    static let headerSize = Int(TAPLINE_NGHTTP2_POOL_HEADER_SIZE)

    private var pool: OpaquePointer!
    private var user: UnsafeMutableRawPointer { UnsafeMutableRawPointer(pool) }

    override func setUp() {
        pool = tapline_nghttp2_memory_pool_create(64 * 1024)
    }

    override func tearDown() {
        tapline_nghttp2_memory_pool_destroy(pool)
        pool = nil
    }

    private func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let block = tapline_nghttp2_memory_pool_malloc(size, user)!
        XCTAssertEqual(Int(bitPattern: block) % 16, 0, "malloc(\(size)) alignment")
        return block
    }

    private func fill(_ block: UnsafeMutableRawPointer, count: Int, seed: UInt8) {
        for i in 0..<count { block.storeBytes(of: seed &+ UInt8(truncatingIfNeeded: i &* 7), toByteOffset: i, as: UInt8.self) }
    }

    private func check(_ block: UnsafeMutableRawPointer, count: Int, seed: UInt8, _ what: @autoclosure () -> String) {
        for i in 0..<count where block.load(fromByteOffset: i, as: UInt8.self) != seed &+ UInt8(truncatingIfNeeded: i &* 7) {
            XCTFail("\(what()): byte \(i) of \(count) changed")
            return
        }
    }

    private var outstanding: Int { tapline_nghttp2_memory_pool_outstanding_blocks(pool) }
    private var cached: Int { tapline_nghttp2_memory_pool_cached_bytes(pool) }

    func testMixedAllocationsKeepTheirBytesAndAlignment() {
        var generator = SystemRandomNumberGenerator()
        var live: [(block: UnsafeMutableRawPointer, size: Int, seed: UInt8)] = []
        for step in 0..<20_000 {
            let seed = UInt8(truncatingIfNeeded: step)
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<4 where live.count < 400:
                // Mostly pooled sizes, some just past the largest class, some large.
                let size = [Int.random(in: 0...Self.maxPooled, using: &generator),
                            Int.random(in: Self.maxPooled - 20...Self.maxPooled + 20, using: &generator),
                            Int.random(in: 0...20_000, using: &generator)][Int.random(in: 0..<3, using: &generator)]
                let block = allocate(size)
                fill(block, count: size, seed: seed)
                live.append((block, size, seed))
            case 4..<6 where !live.isEmpty:
                let index = Int.random(in: live.indices, using: &generator)
                let old = live[index]
                let size = Int.random(in: 1...(Bool.random(using: &generator) ? Self.maxPooled * 2 : 20_000),
                                      using: &generator)
                let moved = tapline_nghttp2_memory_pool_realloc(old.block, size, user)!
                XCTAssertEqual(Int(bitPattern: moved) % 16, 0, "realloc(\(old.size) -> \(size)) alignment")
                check(moved, count: min(old.size, size), seed: old.seed, "realloc \(old.size) -> \(size)")
                fill(moved, count: size, seed: seed)
                live[index] = (moved, size, seed)
            default:
                guard !live.isEmpty else { continue }
                let entry = live.remove(at: Int.random(in: live.indices, using: &generator))
                check(entry.block, count: entry.size, seed: entry.seed, "block of \(entry.size) before free")
                tapline_nghttp2_memory_pool_free(entry.block, user)
            }
            XCTAssertEqual(outstanding, live.count)
            XCTAssertLessThanOrEqual(cached, 64 * 1024)
        }
        for entry in live {
            check(entry.block, count: entry.size, seed: entry.seed, "block of \(entry.size) at the end")
            tapline_nghttp2_memory_pool_free(entry.block, user)
        }
        XCTAssertEqual(outstanding, 0)
    }

    func testSizesRoundUpToSixteenByteClassesAndLargerOnesAreUnpooled() {
        for (size, expected) in [(0, 0), (1, 16), (16, 16), (17, 32), (160, 160), (497, 512), (512, 512), (513, 0)] {
            let block = allocate(size)
            XCTAssertEqual(tapline_nghttp2_memory_pool_block_class_size(block), expected, "size \(size)")
            tapline_nghttp2_memory_pool_free(block, user)
        }
    }

    func testFreedBlocksAreReusedMostRecentFirst() {
        let first = allocate(100)
        let second = allocate(100)
        tapline_nghttp2_memory_pool_free(first, user)
        tapline_nghttp2_memory_pool_free(second, user)
        XCTAssertEqual(cached, 2 * (Self.headerSize + 112))
        let reused = [allocate(112), allocate(97)]
        XCTAssertEqual(reused, [second, first])
        XCTAssertEqual(cached, 0)
        let fresh = allocate(100)
        XCTAssertFalse(reused.contains(fresh), "an empty free list asks glibc")
        XCTAssertEqual(outstanding, 3)
        for block in reused + [fresh] { tapline_nghttp2_memory_pool_free(block, user) }
        XCTAssertEqual(outstanding, 0)
    }

    func testZeroSizedBlocksAreDistinct() {
        let a = allocate(0), b = allocate(0)
        XCTAssertNotEqual(a, b)
        tapline_nghttp2_memory_pool_free(a, user)
        tapline_nghttp2_memory_pool_free(b, user)
        tapline_nghttp2_memory_pool_free(nil, user)
        XCTAssertEqual(outstanding, 0)
    }

    func testCallocZeroesReusedPooledBlocksAndLargeBlocks() {
        for size in [1, 48, 160, 500, Self.maxPooled, Self.maxPooled + 1, 5_000] {
            let dirty = allocate(size)
            memset(dirty, 0xA5, size)
            tapline_nghttp2_memory_pool_free(dirty, user)
            let zeroed = tapline_nghttp2_memory_pool_calloc(1, size, user)!
            XCTAssertEqual(Int(bitPattern: zeroed) % 16, 0)
            if size <= Self.maxPooled { XCTAssertEqual(zeroed, dirty, "calloc(\(size)) reuses the freed block") }
            XCTAssertTrue(UnsafeRawBufferPointer(start: zeroed, count: size).allSatisfy { $0 == 0 }, "calloc(\(size))")
            tapline_nghttp2_memory_pool_free(zeroed, user)
        }
        let array = tapline_nghttp2_memory_pool_calloc(10, 24, user)!
        XCTAssertTrue(UnsafeRawBufferPointer(start: array, count: 240).allSatisfy { $0 == 0 })
        tapline_nghttp2_memory_pool_free(array, user)
        XCTAssertNil(tapline_nghttp2_memory_pool_calloc(Int.max / 2, 4, user), "count * size overflows")
        XCTAssertNil(tapline_nghttp2_memory_pool_malloc(Int(bitPattern: UInt(UInt64.max - 8)), user), "size + header overflows")
        XCTAssertEqual(outstanding, 0)
    }

    func testReallocBetweenPooledAndUnpooledSizes() {
        // NULL is malloc.
        var block = tapline_nghttp2_memory_pool_realloc(nil, 40, user)!
        fill(block, count: 40, seed: 1)
        // Within its class (48) and shrinking: the same block.
        XCTAssertEqual(tapline_nghttp2_memory_pool_realloc(block, 48, user), block)
        XCTAssertEqual(tapline_nghttp2_memory_pool_realloc(block, 3, user), block)
        check(block, count: 40, seed: 1, "kept in its class")
        // Into a larger class: moved, bytes kept, the old block cached.
        let old = block
        block = tapline_nghttp2_memory_pool_realloc(block, 300, user)!
        XCTAssertNotEqual(block, old)
        XCTAssertEqual(tapline_nghttp2_memory_pool_block_class_size(block), 304)
        check(block, count: 40, seed: 1, "pooled -> pooled")
        XCTAssertEqual(cached, Self.headerSize + 48)
        fill(block, count: 300, seed: 2)
        // Pooled -> unpooled.
        block = tapline_nghttp2_memory_pool_realloc(block, 4_000, user)!
        XCTAssertEqual(tapline_nghttp2_memory_pool_block_class_size(block), 0)
        check(block, count: 300, seed: 2, "pooled -> unpooled")
        fill(block, count: 4_000, seed: 3)
        // Unpooled -> larger unpooled (glibc's realloc) and smaller unpooled.
        block = tapline_nghttp2_memory_pool_realloc(block, 100_000, user)!
        check(block, count: 4_000, seed: 3, "unpooled -> larger unpooled")
        block = tapline_nghttp2_memory_pool_realloc(block, 1_000, user)!
        XCTAssertEqual(tapline_nghttp2_memory_pool_block_class_size(block), 0)
        check(block, count: 1_000, seed: 3, "unpooled -> smaller unpooled")
        // Unpooled -> pooled.
        block = tapline_nghttp2_memory_pool_realloc(block, 200, user)!
        XCTAssertEqual(tapline_nghttp2_memory_pool_block_class_size(block), 208)
        check(block, count: 200, seed: 3, "unpooled -> pooled")
        XCTAssertEqual(Int(bitPattern: block) % 16, 0)
        XCTAssertEqual(outstanding, 1)
        // Size 0 frees (as glibc's realloc) and returns NULL.
        XCTAssertNil(tapline_nghttp2_memory_pool_realloc(block, 0, user))
        XCTAssertEqual(outstanding, 0)
    }

    func testFreeListsStayUnderTheirLimitAndUnpooledBlocksAreNeverCached() {
        let limited = tapline_nghttp2_memory_pool_create(1_000)!
        defer { tapline_nghttp2_memory_pool_destroy(limited) }
        let user = UnsafeMutableRawPointer(limited)
        // 1,000 streams' worth of blocks, then all freed: only 1,000 bytes are kept.
        let blocks = (0..<1_000).map { tapline_nghttp2_memory_pool_malloc([48, 160, 224, 512][$0 % 4], user)! }
        let large = tapline_nghttp2_memory_pool_malloc(10_000, user)!
        for block in blocks { tapline_nghttp2_memory_pool_free(block, user) }
        tapline_nghttp2_memory_pool_free(large, user)
        let kept = tapline_nghttp2_memory_pool_cached_bytes(limited)
        XCTAssertLessThanOrEqual(kept, 1_000)
        XCTAssertGreaterThan(kept, 1_000 - (Self.headerSize + Self.maxPooled), "fills up to the limit")
        XCTAssertEqual(tapline_nghttp2_memory_pool_outstanding_blocks(limited), 0)
        // Taking cached blocks out makes room again.
        let again = tapline_nghttp2_memory_pool_malloc(48, user)!
        XCTAssertLessThan(tapline_nghttp2_memory_pool_cached_bytes(limited), kept)
        tapline_nghttp2_memory_pool_free(again, user)
        XCTAssertEqual(tapline_nghttp2_memory_pool_cached_bytes(limited), kept)

        let none = tapline_nghttp2_memory_pool_create(0)!
        defer { tapline_nghttp2_memory_pool_destroy(none) }
        tapline_nghttp2_memory_pool_free(tapline_nghttp2_memory_pool_malloc(16, UnsafeMutableRawPointer(none)),
                                         UnsafeMutableRawPointer(none))
        XCTAssertEqual(tapline_nghttp2_memory_pool_cached_bytes(none), 0, "a zero limit caches nothing")
    }

    /// nghttp2 allocates a client and a server session, streams, frames and HPACK
    /// entries from the pools, and `nghttp2_session_del` gives every block back.
    func testNghttp2SessionsAllocateFromThePoolAndFreeEverythingOnDelete() throws {
        let serverPool = tapline_nghttp2_memory_pool_create(8 * 1024)!
        defer { tapline_nghttp2_memory_pool_destroy(serverPool) }
        var callbacks: OpaquePointer?
        XCTAssertEqual(nghttp2_session_callbacks_new(&callbacks), 0)
        defer { nghttp2_session_callbacks_del(callbacks) }
        func memory(_ pool: OpaquePointer) -> nghttp2_mem {
            nghttp2_mem(mem_user_data: UnsafeMutableRawPointer(pool), malloc: tapline_nghttp2_memory_pool_malloc,
                        free: tapline_nghttp2_memory_pool_free, calloc: tapline_nghttp2_memory_pool_calloc,
                        realloc: tapline_nghttp2_memory_pool_realloc)
        }
        var clientMemory = memory(pool), serverMemory = memory(serverPool)
        var client: OpaquePointer?, server: OpaquePointer?
        XCTAssertEqual(nghttp2_session_client_new3(&client, callbacks, nil, nil, &clientMemory), 0)
        XCTAssertEqual(nghttp2_session_server_new3(&server, callbacks, nil, nil, &serverMemory), 0)
        XCTAssertGreaterThan(outstanding, 0)
        XCTAssertEqual(nghttp2_submit_settings(client, 0, nil, 0), 0)
        XCTAssertEqual(nghttp2_submit_settings(server, 0, nil, 0), 0)

        func pump() {
            for (from, to) in [(client, server), (server, client)] {
                while true {
                    var data: UnsafePointer<UInt8>?
                    let count = nghttp2_session_mem_send(from, &data)
                    XCTAssertGreaterThanOrEqual(count, 0)
                    guard count > 0 else { break }
                    XCTAssertEqual(nghttp2_session_mem_recv(to, data, count), count)
                }
            }
        }
        let fields: [(String, String)] = [(":method", "GET"), (":scheme", "https"), (":authority", "example.test"),
                                          (":path", "/"), ("x-custom", String(repeating: "v", count: 700))]
        for round in 0..<50 {
            let strings = fields.flatMap { [strdup($0.0)!, strdup("\($0.1)\(round)")!] }
            defer { strings.forEach { free($0) } }
            let nvs = stride(from: 0, to: strings.count, by: 2).map { index in
                nghttp2_nv(name: UnsafeMutableRawPointer(strings[index]).assumingMemoryBound(to: UInt8.self),
                           value: UnsafeMutableRawPointer(strings[index + 1]).assumingMemoryBound(to: UInt8.self),
                           namelen: strlen(strings[index]), valuelen: strlen(strings[index + 1]),
                           flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            XCTAssertGreaterThan(nghttp2_submit_request(client, nil, nvs, nvs.count, nil, nil), 0)
            pump()
        }
        XCTAssertGreaterThan(tapline_nghttp2_memory_pool_outstanding_blocks(serverPool), 0)
        nghttp2_session_del(client)
        nghttp2_session_del(server)
        XCTAssertEqual(outstanding, 0, "client session freed all it took")
        XCTAssertEqual(tapline_nghttp2_memory_pool_outstanding_blocks(serverPool), 0, "server session freed all it took")
        XCTAssertLessThanOrEqual(tapline_nghttp2_memory_pool_cached_bytes(serverPool), 8 * 1024)
    }
}
