import Foundation
import Glibc
import TaplineExport

/// Writes an export's output files: atomically (a temporary file renamed
/// over the target), mode 0600 because exports may hold captured data;
/// `-` means stdout.
enum OutputFile {
    static func write(_ bytes: [UInt8], to path: String, makeParent: Bool) throws(ExportError) {
        try write(to: path, makeParent: makeParent) { append throws(ExportError) in try append(bytes) }
    }

    /// Writes the file in pieces, as `produce` hands them to `append`, so that a large
    /// output is never whole in memory; as atomic as `write(_:to:makeParent:)`: the file
    /// appears at `path` once every piece is written (stdout, `-`, gets each at once).
    static func write(to path: String, makeParent: Bool,
                      _ produce: (_ append: ([UInt8]) throws(ExportError) -> Void) throws(ExportError) -> Void) throws(ExportError) {
        if path == "-" {
            try produce { bytes in FileHandle.standardOutput.write(Data(bytes)) }
            return
        }
        if makeParent {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                            attributes: [.posixPermissions: 0o700])
                } catch {
                    throw .cannotWrite(path: parent, reason: (error as NSError).localizedDescription)
                }
            }
        }
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        do throws(ExportError) {
            try produce { bytes throws(ExportError) in try FileDescriptorOutput.writeAll(bytes, to: descriptor, path: path) }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    }
}
