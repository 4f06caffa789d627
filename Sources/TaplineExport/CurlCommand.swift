import Foundation
import TaplineCapture
import TaplineWire

/// A flow's request as a `curl` command line a user can paste into a POSIX
/// shell: method, URL, headers in order (minus what curl sets itself), and
/// the body from a file or inline. Every argument is single-quoted safely
/// (`'` becomes `'\''`). Secrets are kept: this is for replaying one's own
/// traffic. Pure apart from reading the body.
public enum CurlCommand {
    static let skipped: Set<String> = ["host", "content-length", "connection", "transfer-encoding", "keep-alive",
                                       "proxy-connection", "te", "upgrade"]

    /// The command, split over lines with ` \` continuations. nil for flows without a request.
    public static func make(_ flow: CapturedFlow, bodyLimit: Int = 1 << 20) throws(CaptureError) -> String? {
        guard let request = flow.request, request.method != "CONNECT" else { return nil }
        let url = RequestURL(flow: flow)?.absolute ?? flow.url
        var arguments: [String] = ["curl"]
        var notes: [String] = []
        if request.method != "GET" || flow.requestBody.capturedBytes > 0 {
            if !(request.method == "POST" && flow.requestBody.capturedBytes > 0) {
                arguments.append("-X " + quote(request.method))
            }
        }
        if request.version.major >= 2 { arguments.append("--http2") }
        for field in request.headers {
            let name = field.name.lowercased()
            if name.hasPrefix(":") || skipped.contains(name) { continue }
            if name == "accept-encoding" {
                arguments.append("--compressed")
                continue
            }
            arguments.append("-H " + quote("\(field.name): \(field.value)"))
        }
        if flow.requestBody.capturedBytes > 0 {
            let body = try flow.requestBody.bodyData(limit: bodyLimit)
            if let text = String(validating: body, as: UTF8.self), !text.contains("\u{0}") {
                arguments.append("--data-binary " + quote(text))
            } else {
                arguments.append("--data-binary @body.bin")
                notes.append("# the body is \(body.count) binary bytes: save them first with tapline show SESSION --flow \(flow.id) --body request > body.bin")
            }
            if flow.requestBody.truncated { notes.append("# note: the capture kept only \(flow.requestBody.capturedBytes) of \(flow.requestBody.bodyBytes) body bytes") }
        }
        arguments.append(quote(url))
        return (notes + [arguments.joined(separator: " \\\n  ")]).joined(separator: "\n")
    }

    /// `text` as one single-quoted shell word.
    public static func quote(_ text: String) -> String {
        if !text.isEmpty && text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0)) }) {
            return text
        }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
