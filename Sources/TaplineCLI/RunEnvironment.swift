import Foundation
import TaplineTLS

/// The environment `tapline run` gives its command: the inherited one plus the
/// variables that make common clients send their traffic through the proxy and
/// trust Tapline's CA (docs/capture-any-client.md has the table of which runtime
/// reads which). Pure: variables in, variables and warnings out.
struct RunEnvironment {
    /// The variables to run the command with.
    var variables: [String: String]
    /// What the user should know about them (a `NO_PROXY` that excludes everything).
    var warnings: [String]

    /// The variables that name the proxy (curl, Python, Go, gRPC C core, websockets, ...).
    static let proxyVariables = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "grpc_proxy"]
    /// The variables that name a PEM bundle replacing the client's roots: they get
    /// the bundle of the system's roots plus Tapline's CA.
    static let bundleVariables = ["SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
                                  "GIT_SSL_CAINFO", "AWS_CA_BUNDLE", "DENO_CERT", "PIP_CERT", "HTTPLIB2_CA_CERTS",
                                  "NIX_SSL_CERT_FILE", "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE"]

    /// `inherited` with the proxy at `proxyURL` (`http://127.0.0.1:PORT`) and the
    /// trust files set. `NO_PROXY`/`no_proxy` stay as they were; `SSL_CERT_DIR` gets
    /// the directory of Tapline's CA in front of the one the child would have used;
    /// `JAVA_TOOL_OPTIONS` gets the trust store, the proxy and `NO_PROXY` as
    /// `http.nonProxyHosts` appended (Java reads no proxy variable).
    /// `NODE_EXTRA_CA_CERTS` names Tapline's CA alone: Node adds it to the roots it carries.
    /// With `socks5URL` (`socks5h://HOST:PORT`, `--socks5`) `ALL_PROXY`/`all_proxy` name it
    /// instead; the HTTP proxy variables still name `proxyURL`.
    init(inherited: [String: String], proxyURL: String, proxyHost: String, proxyPort: Int,
         trust: ClientTrustFiles, authorityCertificatePath: String, socks5URL: String? = nil) {
        var variables = inherited
        for name in Self.proxyVariables { variables[name] = proxyURL }
        if let socks5URL {
            for name in ["ALL_PROXY", "all_proxy"] { variables[name] = socks5URL }
        }
        for name in Self.bundleVariables { variables[name] = trust.bundlePath }
        variables["NODE_EXTRA_CA_CERTS"] = authorityCertificatePath
        let inheritedDirectories = inherited["SSL_CERT_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? trust.systemCertificateDirectory
        variables["SSL_CERT_DIR"] = trust.hashedCertificateDirectory + ":" + inheritedDirectories
        var javaOptions = [
            "-Djavax.net.ssl.trustStore=\(Self.javaOptionValue(trust.javaTrustStorePath))",
            "-Djavax.net.ssl.trustStoreType=PKCS12",
            "-Djavax.net.ssl.trustStorePassword=\(ClientTrustFiles.javaTrustStorePassword)",
            "-Dhttp.proxyHost=\(proxyHost)", "-Dhttp.proxyPort=\(proxyPort)",
            "-Dhttps.proxyHost=\(proxyHost)", "-Dhttps.proxyPort=\(proxyPort)",
        ]
        let existingJavaOptions = inherited["JAVA_TOOL_OPTIONS"] ?? ""
        // Java's own default skips localhost and 127.*; say what NO_PROXY says instead,
        // unless the user set the property themselves.
        if !existingJavaOptions.contains("-Dhttp.nonProxyHosts=") {
            let noProxy = inherited["no_proxy"] ?? inherited["NO_PROXY"] ?? ""
            javaOptions.append("-Dhttp.nonProxyHosts=\(Self.javaOptionValue(Self.javaNonProxyHosts(noProxy)))")
        }
        variables["JAVA_TOOL_OPTIONS"] = ([existingJavaOptions].filter { !$0.isEmpty } + javaOptions).joined(separator: " ")
        self.variables = variables

        warnings = []
        for name in ["NO_PROXY", "no_proxy"] {
            if let value = inherited[name], value.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == "*" }) {
                warnings.append("\(name)=\(value) excludes every host from proxying: clients that honour it will bypass the proxy and nothing they send is captured; unset \(name) to capture them")
            }
        }
    }

    /// Leaves the trust settings but names no proxy (`tapline run --transparent`: the
    /// kernel sends every connection to Tapline): the proxy variables, inherited ones
    /// too, and Java's proxy properties are removed, and so are warnings about them.
    mutating func removeProxySettings() {
        for name in Self.proxyVariables { variables[name] = nil }
        if let java = variables["JAVA_TOOL_OPTIONS"] {
            let proxyProperties = ["-Dhttp.proxyHost=", "-Dhttp.proxyPort=", "-Dhttps.proxyHost=", "-Dhttps.proxyPort=",
                                   "-Dhttp.nonProxyHosts="]
            variables["JAVA_TOOL_OPTIONS"] = java.split(separator: " ")
                .filter { option in !proxyProperties.contains { option.hasPrefix($0) } }
                .joined(separator: " ")
        }
        warnings = []
    }

    /// The variables as `NAME=value` strings, sorted (for `posix_spawn`).
    var entries: [String] {
        variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// `NO_PROXY` (`example.com,.internal,10.0.0.1`) in Java's `http.nonProxyHosts`
    /// syntax (`example.com|*.example.com|*.internal|10.0.0.1`): a name covers itself and
    /// its subdomains, as curl reads it. Empty when `NO_PROXY` is: proxy everything.
    static func javaNonProxyHosts(_ noProxy: String) -> String {
        noProxy.split(separator: ",").flatMap { entry -> [String] in
            let name = entry.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { return [] }
            if name == "*" { return ["*"] }
            if name.hasPrefix(".") { return ["*" + name] }
            return [name, "*." + name]
        }.joined(separator: "|")
    }

    /// A value in `JAVA_TOOL_OPTIONS`, which the JVM splits at spaces: quoted when it has one.
    private static func javaOptionValue(_ value: String) -> String {
        value.contains(" ") ? "\"\(value)\"" : value
    }
}
