import Foundation

/// Finds the programs a test starts (openssl, nghttpd, python3) the way a shell
/// would, plus the sbin directories where Debian installs servers (nghttpd, nginx)
/// that a non-root PATH leaves out.
public enum TestExecutable {
    /// The path of the executable `name`, or nil when it is not installed.
    public static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The path of `name`, or the error a test throws without it: a skip locally,
    /// a failure in CI (`MissingTestEnvironment.skipOrFail`). `package` names the
    /// Debian package to install.
    public static func require(_ name: String, package: String) throws -> String {
        guard let path = find(name) else {
            throw MissingTestEnvironment.skipOrFail("\(name) is not installed (apt-get install \(package))")
        }
        return path
    }
}
