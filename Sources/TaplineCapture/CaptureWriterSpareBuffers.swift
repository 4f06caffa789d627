extension CaptureWriter {
    /// Emptied buffers of written batches, handed back to an encoder for its next
    /// batch so a busy loop does not allocate (and the writer thread free) a line
    /// buffer and a body buffer per loop iteration.
    ///
    /// Thread ownership: moved from the writer (under its lock) to one encoder.
    struct SpareBuffers: @unchecked Sendable {
        var lines: CaptureByteStorage?
        var bodies: CaptureByteStorage?
    }
}
