import XCTest
@testable import TaplineNet

/// The write queue hands out exactly the bytes written, in order, whatever mix of
/// copied and handed-over writes and partial sends, including when chunk storage
/// is reused (`spare`).
final class ByteChunkQueueTests: XCTestCase {
    /// Drains up to `limit` bytes the way a socket that takes `limit` would.
    private func send(_ queue: inout ByteChunkQueue, upTo limit: Int) -> [UInt8] {
        var sent: [UInt8] = []
        while !queue.isEmpty && sent.count < limit {
            let taken = queue.withFirstChunk { chunk -> Int in
                let count = min(chunk.count, limit - sent.count)
                sent.append(contentsOf: chunk.prefix(count))
                return count
            }
            queue.consume(taken)
        }
        return sent
    }

    func test_random_writes_and_partial_sends_come_out_in_order() {
        var generator = SystemRandomNumberGenerator()
        let source = (0..<140_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for _ in 0..<40 {
            var queue = ByteChunkQueue()
            var written: [UInt8] = []
            var sent: [UInt8] = []
            for _ in 0..<40 {
                let size = [1, 7, 100, 1_000, 4_095, 4_096, 9_000, 17_000, 70_000].randomElement(using: &generator)!
                let start = Int.random(in: 0...(source.count - size), using: &generator)
                let bytes = Array(source[start..<(start + size)])
                written += bytes
                if Bool.random(using: &generator) {
                    bytes.withUnsafeBufferPointer { queue.append($0) }
                } else {
                    queue.append(bytes)
                }
                if Int.random(in: 0..<3, using: &generator) == 0 {
                    sent += send(&queue, upTo: Int.random(in: 0...80_000, using: &generator))
                }
            }
            sent += send(&queue, upTo: .max)
            XCTAssertTrue(queue.isEmpty)
            XCTAssertEqual(sent.count, written.count)
            XCTAssertTrue(sent == written, "the queue changed, lost or reordered bytes")
        }
    }

    func test_reused_storage_never_leaks_old_bytes_into_a_new_chunk() {
        var queue = ByteChunkQueue()
        let first = [UInt8](repeating: 0xAA, count: 3_000)
        first.withUnsafeBufferPointer { queue.append($0) }
        XCTAssertEqual(send(&queue, upTo: .max), first)
        let second: [UInt8] = [1, 2, 3]
        second.withUnsafeBufferPointer { queue.append($0) }
        XCTAssertEqual(send(&queue, upTo: .max), second)
    }

    func test_a_handed_over_array_is_not_changed_when_its_storage_is_reused() {
        var queue = ByteChunkQueue()
        let caller: [UInt8] = Array(repeating: 7, count: 5_000)  // kept by the caller
        queue.append(caller)
        XCTAssertEqual(send(&queue, upTo: .max), caller)
        let next: [UInt8] = [9, 9]
        next.withUnsafeBufferPointer { queue.append($0) }
        XCTAssertEqual(send(&queue, upTo: .max), next)
        XCTAssertEqual(caller, Array(repeating: 7, count: 5_000))
    }
}
