import TaplineCompression
import XCTest

final class ZlibInflaterTests: XCTestCase {
    func testZlibGzipAndRawFromPythonInAnySplit() throws {
        let input = PythonZlib.sample(count: 3000)
        let cases: [(ZlibFormat, String)] = [
            (.zlib(windowBits: 15), "sys.stdout.buffer.write(zlib.compress(data))"),
            (.gzip, "sys.stdout.buffer.write(gzip.compress(data))"),
            (.zlibOrGzip, "sys.stdout.buffer.write(gzip.compress(data))"),
            (.zlibOrGzip, "sys.stdout.buffer.write(zlib.compress(data))"),
            (.raw(windowBits: 15),
             "c = zlib.compressobj(6, zlib.DEFLATED, -15)\nsys.stdout.buffer.write(c.compress(data) + c.flush())"),
        ]
        for (format, script) in cases {
            let compressed = try PythonZlib.run(script, input: input)
            XCTAssertEqual(try ZlibInflater.decompress(compressed, format: format), input, "\(format)")
            for split in 0...compressed.count {
                let inflater = try ZlibInflater(format: format)
                var output: [UInt8] = []
                try inflater.decompress(compressed[..<split], into: &output)
                try inflater.decompress(compressed[split...], into: &output)
                try inflater.finish()
                XCTAssertEqual(output, input, "\(format) split at \(split)")
            }
        }
    }

    func testEveryRawWindowSize() throws {
        let input = PythonZlib.sample(count: 50_000, seed: 7)
        for bits in 9...15 {
            let compressed = try PythonZlib.run(
                "c = zlib.compressobj(9, zlib.DEFLATED, -\(bits))\nsys.stdout.buffer.write(c.compress(data) + c.flush())",
                input: input)
            XCTAssertEqual(try ZlibInflater.decompress(compressed, format: .raw(windowBits: bits)), input, "bits \(bits)")
        }
        // An 8-bit window inflates data whose back-references stay within 256 bytes.
        let short = Array(repeating: Array("abcdefgh".utf8), count: 500).flatMap { $0 }
        let compressed = try PythonZlib.run(
            "c = zlib.compressobj(9, zlib.DEFLATED, -9)\nsys.stdout.buffer.write(c.compress(data) + c.flush())",
            input: short)
        XCTAssertEqual(try ZlibInflater.decompress(compressed, format: .raw(windowBits: 8)), short)
    }

    func testByteAtATime() throws {
        let input = PythonZlib.sample(count: 10_000, seed: 3)
        let compressed = try PythonZlib.run("sys.stdout.buffer.write(gzip.compress(data))", input: input)
        let inflater = try ZlibInflater(format: .gzip)
        var output: [UInt8] = []
        for byte in compressed { try inflater.decompress([byte], into: &output) }
        try inflater.finish()
        XCTAssertEqual(output, input)
    }

    func testMultiMemberGzip() throws {
        let first = Array("first member\n".utf8), second = Array("second member\n".utf8)
        let compressed = try PythonZlib.run("sys.stdout.buffer.write(gzip.compress(b'first member\\n') + gzip.compress(b'second member\\n'))")
        XCTAssertEqual(try ZlibInflater.decompress(compressed, format: .gzip), first + second)
    }

    func testDecompressionBombStopsAtTheLimit() throws {
        let compressed = try PythonZlib.run("sys.stdout.buffer.write(zlib.compress(b'\\0' * (50 << 20), 9))")
        XCTAssertLessThan(compressed.count, 100_000)
        let inflater = try ZlibInflater(format: .zlib(windowBits: 15), maxOutputBytes: 1 << 20)
        var output: [UInt8] = []
        XCTAssertThrowsError(try inflater.decompress(compressed, into: &output)) { error in
            XCTAssertEqual(error as? CompressionError, .outputLimitExceeded(limit: 1 << 20))
        }
        XCTAssertLessThanOrEqual(output.count, 1 << 20)
        // Exactly at the limit is fine.
        let exact = try PythonZlib.run("sys.stdout.buffer.write(zlib.compress(b'x' * 4096))")
        XCTAssertEqual(try ZlibInflater.decompress(exact, format: .zlib(windowBits: 15), maxOutputBytes: 4096).count, 4096)
        XCTAssertThrowsError(try ZlibInflater.decompress(exact, format: .zlib(windowBits: 15), maxOutputBytes: 4095))
    }

    func testTruncatedCorruptAndTrailingData() throws {
        let input = PythonZlib.sample(count: 2000)
        let compressed = try PythonZlib.run("sys.stdout.buffer.write(zlib.compress(data))", input: input)
        XCTAssertThrowsError(try ZlibInflater.decompress(Array(compressed.dropLast(3)), format: .zlib(windowBits: 15))) {
            XCTAssertEqual($0 as? CompressionError, .truncated)
        }
        var corrupt = compressed
        corrupt[corrupt.count - 1] ^= 0xff  // Adler-32 mismatch
        XCTAssertThrowsError(try ZlibInflater.decompress(corrupt, format: .zlib(windowBits: 15))) {
            guard case .corruptData? = $0 as? CompressionError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try ZlibInflater.decompress([0xff, 0xff, 0xff], format: .gzip)) {
            guard case .corruptData? = $0 as? CompressionError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try ZlibInflater.decompress(compressed + [1, 2], format: .zlib(windowBits: 15))) {
            XCTAssertEqual($0 as? CompressionError, .trailingData(count: 2))
        }
    }

    func testInvalidParameters() {
        for bits in [7, 16, 0] {
            XCTAssertThrowsError(try ZlibInflater(format: .raw(windowBits: bits))) {
                guard case .invalidParameters? = $0 as? CompressionError else { return XCTFail("\($0)") }
            }
        }
    }

    /// permessage-deflate style: sync-flushed messages from one Python compressor share
    /// a window, so only an inflater that keeps its context decodes the second one.
    func testContextTakeoverAcrossMessages() throws {
        let script = """
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            m1 = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
            m2 = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
            assert m1[-4:] == b'\\x00\\x00\\xff\\xff' and m2[-4:] == b'\\x00\\x00\\xff\\xff'
            sys.stdout.buffer.write(len(m1).to_bytes(4, 'big') + m1 + m2)
            """
        let message = PythonZlib.sample(count: 5000, seed: 9)
        let out = try PythonZlib.run(script, input: message)
        let firstLength = Int(out[0]) << 24 | Int(out[1]) << 16 | Int(out[2]) << 8 | Int(out[3])
        let first = Array(out[4..<(4 + firstLength)]), second = Array(out[(4 + firstLength)...])
        XCTAssertLessThan(second.count, first.count / 4, "the second message refers back to the first")

        let keep = try ZlibInflater(format: .raw(windowBits: 15))
        var output: [UInt8] = []
        try keep.decompress(first, into: &output)
        XCTAssertEqual(output, message)
        output = []
        keep.resetOutputCount()
        try keep.decompress(second, into: &output)
        XCTAssertEqual(output, message)
        XCTAssertFalse(keep.isFinished)

        let fresh = try ZlibInflater(format: .raw(windowBits: 15))
        output = []
        XCTAssertThrowsError(try fresh.decompress(second, into: &output), "without the window the references dangle")
    }

    func testNoContextTakeoverResetsBetweenMessages() throws {
        let script = """
            out = b''
            for i in range(3):
                c = zlib.compressobj(6, zlib.DEFLATED, -15)
                m = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
                out += len(m).to_bytes(4, 'big') + m
            sys.stdout.buffer.write(out)
            """
        let message = PythonZlib.sample(count: 4000, seed: 11)
        var rest = try PythonZlib.run(script, input: message)[...]
        let inflater = try ZlibInflater(format: .raw(windowBits: 15))
        while !rest.isEmpty {
            let length = rest.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            let chunk = rest.dropFirst(4).prefix(length)
            rest = rest.dropFirst(4 + length)
            var output: [UInt8] = []
            inflater.reset()
            try inflater.decompress(chunk, into: &output)
            XCTAssertEqual(output, message)
        }
    }
}
