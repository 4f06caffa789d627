import TaplineCapture
import TaplineExport
import TaplineWire

/// A replayed response body compared with its source's stored body as it arrives,
/// so that nothing of an equal body is kept: each chunk is checked against the same
/// bytes of the source (read from the capture, front to back, `CapturedBodyReader`).
/// Once a byte differs (or the replay runs past the source), the replay's bytes from
/// there on are kept, up to `limit` in all (the diff's `bodyLimit`); the bytes before
/// are the source's own and are read again only when the body is loaded for a full
/// comparison (`loaded`).
///
/// Memory: one source chunk while matching (a slice of the shared read-ahead window it
/// came from, which it keeps alive until matched); after a difference, at most `limit` bytes.
///
/// Thread ownership: owned by one `ReplayedFlowCollector` entry on the replay's loop.
final class ReplayedResponseBody {
    private let source: CapturedBody
    private let limit: Int
    private var reader: CapturedBodyReader?
    /// The loop's open source segment files, read through.
    private let sourceFiles: CaptureSegmentFiles
    /// Source bytes read but not yet matched against replay bytes.
    private var pendingSource: ArraySlice<UInt8> = []
    /// Replay bytes seen in all.
    private(set) var count: UInt64 = 0
    /// Replay bytes equal to the source's first `matchedCount` bytes; once they differ, fixed.
    private var matchedCount: UInt64 = 0
    /// The replay's bytes after `matchedCount` (at most `limit - matchedCount` of them), once they differ.
    private var tail: [UInt8]?
    /// Why the source could not be read while matching; the body is then loaded in full to report it.
    private var sourceReadFailed = false
    /// Every stored source byte was read (given whole to `init`): nothing more to read.
    private var sourceWhollyRead = false

    /// `stored`: the source's whole stored body when it was read already (then it is
    /// matched against that and the segment files are not read).
    init(source: CapturedBody, limit: Int, sourceFiles: CaptureSegmentFiles, stored: [UInt8]? = nil) {
        self.source = source
        self.limit = limit
        self.sourceFiles = sourceFiles
        if let stored, UInt64(stored.count) == source.capturedBytes {
            pendingSource = stored[...]
            sourceWhollyRead = true
        }
    }

    /// Takes the next replayed bytes.
    func append(_ bytes: ArraySlice<UInt8>) {
        count += UInt64(bytes.count)
        if tail == nil {
            var rest = bytes
            while !rest.isEmpty, tail == nil {
                if pendingSource.isEmpty, !readSource(atLeast: rest.count) {
                    tail = []
                    break
                }
                let n = min(rest.count, pendingSource.count)
                if rest.prefix(n).sameBytes(as: pendingSource.prefix(n)) {  // one memcmp, not a byte-wise walk
                    matchedCount += UInt64(n)
                    rest = rest.dropFirst(n)
                    pendingSource = pendingSource.dropFirst(n)
                } else {
                    tail = []
                }
            }
            guard tail != nil else { return }
            keep(rest)
        } else {
            keep(bytes)
        }
    }

    private func keep(_ bytes: ArraySlice<UInt8>) {
        let room = max(0, limit - Int(min(matchedCount, UInt64(limit))) - (tail?.count ?? 0))
        if room > 0 { tail?.append(contentsOf: bytes.prefix(room)) }
    }

    /// Reads more of the source; false at its end or when it cannot be read.
    private func readSource(atLeast wanted: Int) -> Bool {
        guard !sourceWhollyRead else { return false }
        if reader == nil { reader = CapturedBodyReader(source, sharedFiles: sourceFiles) }
        do {
            let chunk = try reader?.nextSlice(maxBytes: max(wanted, 16 * 1024)) ?? []
            pendingSource = chunk
            return !chunk.isEmpty
        } catch {
            sourceReadFailed = true
            return false
        }
    }

    /// True when the replayed bytes are exactly the source's stored bytes, and those are
    /// the whole source body (not truncated by the capture): the bodies are equal byte for byte.
    var equalsSource: Bool {
        tail == nil && !sourceReadFailed && matchedCount == source.capturedBytes && !source.truncated
    }

    /// Closes the source file.
    func close() {
        reader?.close()
        reader = nil
        pendingSource = []
    }

    /// The replayed body as `LoadedBody.load` would read it back from the replay session
    /// (at most `limit` bytes, decoded per `headers`' Content-Encoding): the source's
    /// first matched bytes, then the kept tail.
    ///
    /// - Throws: `CaptureError` when the source's matched bytes cannot be read again.
    func loaded(headers: HTTPHeaders) throws(CaptureError) -> LoadedBody {
        close()
        let prefixCount = Int(min(matchedCount, UInt64(limit)))
        var stored = prefixCount > 0 ? try source.bytes(from: 0, maxCount: prefixCount) : []
        stored += tail ?? []
        return LoadedBody.decoded(stored: stored, storedTotal: count, bodyBytes: count, truncated: false,
                                  headers: headers, limit: limit)
    }
}
