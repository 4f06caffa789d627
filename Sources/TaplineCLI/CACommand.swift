import Foundation
import TaplineTLS

/// `tapline ca`: shows, exports or regenerates the interception CA.
enum CACommand {
    static let usage = """
    usage: tapline ca [--path | --export FILE | --regenerate]

    Without options: where the CA certificate is, its fingerprint, and how to trust it.
      --path          print only the path of the CA certificate (PEM)
      --export FILE   write the CA certificate (PEM) to FILE ("-" for stdout)
      --regenerate    replace the CA with a new one (clients must trust the new one)

    environment:
      TAPLINE_HOME    where the CA lives (default ~/.tapline)
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let pathOnly = args.flag("--path")
        let regenerate = args.flag("--regenerate")
        let export: String?
        do {
            export = try args.value("--export")
            try args.finish()
            if [pathOnly, regenerate, export != nil].filter({ $0 }).count > 1 {
                throw UsageError("--path, --export and --regenerate are alternatives; give one")
            }
        } catch {
            StandardError.writeLine("tapline ca: \(error)\n\n\(usage)")
            return 2
        }
        let home = CertificateAuthority.defaultHome
        do {
            let authority = regenerate
                ? try CertificateAuthority.regenerate(home: home)
                : try CertificateAuthority(home: home)
            if pathOnly {
                print(authority.certificatePath)
            } else if let export {
                if export == "-" {
                    print(authority.certificatePEM, terminator: "")
                } else {
                    guard FileManager.default.createFile(atPath: export, contents: Data(authority.certificatePEM.utf8)) else {
                        StandardError.writeLine("tapline ca: cannot write \(export)")
                        return 1
                    }
                    StandardError.writeLine("tapline: CA certificate written to \(export)")
                }
            } else {
                if regenerate { print("New CA created. Clients that trusted the old one must trust this one instead.") }
                print("""
                CA certificate: \(authority.certificatePath)
                SHA-256:        \(authority.sha256Fingerprint)

                Trust it:
                  curl:      curl --cacert \(authority.certificatePath) -x http://127.0.0.1:8080 https://...
                  Debian:    sudo cp \(authority.certificatePath) /usr/local/share/ca-certificates/tapline.crt && sudo update-ca-certificates
                  Firefox:   Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import
                  Chromium:  chrome://settings/certificates > Authorities > Import
                """)
            }
            return 0
        } catch {
            StandardError.writeLine("tapline ca: \(error)")
            return 1
        }
    }
}
