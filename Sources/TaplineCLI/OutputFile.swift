import Foundation
import Glibc
import TaplineExport

/// Writes an export's output files: atomically (a temporary file renamed
/// over the target), mode 0600 because exports may hold captured data;
/// `-` means stdout.
enum OutputFile {
    static func write(_ bytes: [UInt8], to path: String, makeParent: Bool) throws(ExportError) {
        if path == "-" {
            FileHandle.standardOutput.write(Data(bytes))
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
            try FileDescriptorOutput.writeAll(bytes, to: descriptor, path: path)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    }
}
