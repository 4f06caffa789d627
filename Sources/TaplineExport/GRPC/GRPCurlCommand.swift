import TaplineCapture
import TaplineWire

/// A captured gRPC call as a `grpcurl` command a user can paste into a POSIX shell:
/// the schema options, `-plaintext` for an `http` flow, the call's custom metadata as
/// `-H`, the request messages' JSON as `-d` (several for a client-streaming call, in
/// order, as grpcurl reads a stream of JSON objects), the flow's authority and
/// `pkg.Service/Method`. Comment lines before it say what a user must know (no schema:
/// grpcurl asks the server's reflection service, and raw JSON keys are field numbers it
/// will not accept; messages that could not be decoded). Pure.
public enum GRPCurlCommand {
    /// - Parameter schemaArguments: grpcurl's schema options (`-import-path DIR -proto FILE`,
    ///   `-protoset FILE`), already split into words; empty to use server reflection.
    public static func make(_ call: GRPCCallView, flow: CapturedFlow, schemaArguments: [String]) -> String {
        var notes: [String] = []
        var arguments = ["grpcurl"]
        if flow.scheme == "http" { arguments.append("-plaintext") }
        if schemaArguments.isEmpty {
            notes.append("# no schema given (tapline export --proto/--descriptor-set): grpcurl will ask the server's reflection service")
        }
        var index = 0
        while index < schemaArguments.count {
            let word = schemaArguments[index]
            if word.hasPrefix("-"), index + 1 < schemaArguments.count {
                arguments.append(word + " " + CurlCommand.quote(schemaArguments[index + 1]))
                index += 2
            } else {
                arguments.append(CurlCommand.quote(word))
                index += 1
            }
        }
        for field in call.requestMetadata {
            arguments.append("-H " + CurlCommand.quote("\(field.name): \(field.value)"))
        }
        var documents: [String] = []
        for message in call.messages where message.direction == .request {
            switch message.content {
            case .decoded(let value, _), .json(let value):
                documents.append(JSONWriter.text(value, indent: nil))
            case .raw(let value, let reason):
                documents.append(JSONWriter.text(value, indent: nil))
                notes.append("# request message \(message.index) was decoded without its type (\(reason)): its keys are field numbers, which grpcurl does not accept")
            case .notDecoded(let reason):
                notes.append("# request message \(message.index) is left out: \(reason)")
            case .incomplete:
                notes.append("# request message \(message.index) is left out: the capture holds only part of it")
            }
        }
        if documents.count > 1 { notes.append("# \(call.kind.rawValue): the \(documents.count) request messages are sent in order") }
        arguments.append("-d " + CurlCommand.quote(documents.joined(separator: "\n")))
        arguments.append(CurlCommand.quote(flow.authority))
        arguments.append(CurlCommand.quote(call.fullMethod))
        return (notes + [arguments.joined(separator: " \\\n  ")]).joined(separator: "\n")
    }
}
