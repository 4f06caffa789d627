import Glibc

/// Writes whole byte arrays to a file descriptor, retrying short writes and
/// EINTR; the one write loop of the exporters and the CLI's output files.
public enum FileDescriptorOutput {
    /// - Throws: `cannotWrite` naming `path` with the system's reason.
    public static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(ExportError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
            offset += written
        }
    }
}
