import TaplineWire

/// Splits a file into lines while reading it in fixed-size chunks, so
/// events.jsonl of any size is read with bounded memory (plus the longest line).
enum CaptureLineReader {
    static let chunkSize = 1 << 20

    /// Calls `onLine` with each complete (newline-terminated) line and its
    /// 1-based number, without the newline; then `onTornLine` once if the file
    /// ends with bytes that have no newline (an interrupted last write). A line's bytes
    /// are the reader's own buffer, valid only during the call (no copy, no reference
    /// counted per line).
    static func forEachLine(path: String, onLine: (Int, UnsafeBufferPointer<UInt8>) -> Void,
                            onTornLine: (Int) -> Void) throws(CaptureError) {
        try forEachLine(path: path, onLineAt: { number, _, line in onLine(number, line) }, onTornLine: onTornLine)
    }

    /// `forEachLine`, also giving each line's byte offset in the file.
    static func forEachLine(path: String, onLineAt: (Int, UInt64, UnsafeBufferPointer<UInt8>) -> Void,
                            onTornLine: (Int) -> Void) throws(CaptureError) {
        let file = try CaptureFile.openForReading(path)
        defer { file.close() }
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var carry: [UInt8] = []
        var lineNumber = 0
        var chunkOffset: UInt64 = 0  // the file offset of chunk[0]
        while true {
            let n = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(CaptureError) in try file.read(into: raw) }
            }.get()
            if n == 0 { break }
            let start = chunk.withUnsafeBufferPointer { bytes in
                var start = 0
                while let index = bytes.firstIndex(of: 0x0A, in: start..<n) {
                    lineNumber += 1
                    if carry.isEmpty {
                        onLineAt(lineNumber, chunkOffset + UInt64(start), UnsafeBufferPointer(rebasing: bytes[start..<index]))
                    } else {
                        carry.append(contentsOf: bytes[start..<index])
                        carry.withUnsafeBufferPointer { onLineAt(lineNumber, chunkOffset + UInt64(index) - UInt64($0.count), $0) }
                        carry.removeAll(keepingCapacity: true)
                    }
                    start = index + 1
                }
                return start
            }
            if start < n { carry.append(contentsOf: chunk[start..<n]) }
            chunkOffset += UInt64(n)
        }
        if carry.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
            onTornLine(lineNumber + 1)
        }
    }
}
