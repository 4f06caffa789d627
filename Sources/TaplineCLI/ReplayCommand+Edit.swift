import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineProtobuf
import TaplineReplay

extension ReplayCommand {
    /// The schema of `--proto`, `--descriptor-set` and `--reflect` (asked for the service of
    /// the first `--edit` call, else of the first gRPC call in the session); nil when none is given.
    static func loadSchema(_ request: Request, source: CapturedSession) throws(ProtoSchemaLoadFailure) -> ProtoSchema? {
        guard let sources = request.schemaSources else { return nil }
        guard sources.reflection != nil else {
            do {
                return try sources.load()
            } catch {
                throw .schema(error)
            }
        }
        let edited = Set(request.edits.map(\.flow))
        let calls = source.flows.filter { GRPCCallDecoder.contentType(of: $0) != nil }
        let call = calls.first { edited.contains($0.id) } ?? calls.first
        let service = call?.request?.target.split(separator: "/", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        return try sources.load(symbol: service)
    }

    /// The new request body of each `--edit` flow (`GRPCRequestEdit`).
    /// - Throws: `ReplayEditError` (a flow that is missing, not gRPC, not unary, without a schema,
    ///   JSON that does not fit), or `CaptureError` when the stored request body cannot be read.
    static func editedRequestBodies(_ edits: [ReplayEditOption], source: CapturedSession,
                                    schema: ProtoSchema?) throws -> [FlowID: [UInt8]] {
        let editor = GRPCRequestEdit(schema: schema)
        var bodies: [FlowID: [UInt8]] = [:]
        for edit in edits {
            guard let flow = source.flows.first(where: { $0.id == edit.flow }) else { throw ReplayEditError.flowNotFound(edit.flow) }
            let stored = try flow.requestBody.bodyData(limit: Int(clamping: flow.requestBody.capturedBytes))
            bodies[edit.flow] = try editor.requestBody(of: flow, storedRequestBody: stored, json: edit.json, file: edit.file)
        }
        return bodies
    }
}
