import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineProtobuf
import TaplineReplay

extension ReplayCommand {
    /// The schema of `--proto`, `--descriptor-set` and `--reflect` (asked for the service of
    /// `serviceCall`: the first `--edit` call, else the session's first gRPC call); nil when none is given.
    static func loadSchema(_ request: Request, serviceCall: CapturedFlow?) throws(ProtoSchemaLoadFailure) -> ProtoSchema? {
        guard let sources = request.schemaSources else { return nil }
        guard sources.reflection != nil else {
            do {
                return try sources.load()
            } catch {
                throw .schema(error)
            }
        }
        let service = serviceCall?.request?.target.split(separator: "/", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        return try sources.load(symbol: service)
    }

    /// The new request body of each `--edit` flow (`GRPCRequestEdit`); `flows`: the source's
    /// flows that `edits` name, by id (one not there was not in the session).
    /// - Throws: `ReplayEditError` (a flow that is missing, not gRPC, not unary, without a schema,
    ///   JSON that does not fit), or `CaptureError` when the stored request body cannot be read.
    static func editedRequestBodies(_ edits: [ReplayEditOption], flows: [FlowID: CapturedFlow],
                                    schema: ProtoSchema?) throws -> [FlowID: [UInt8]] {
        let editor = GRPCRequestEdit(schema: schema)
        var bodies: [FlowID: [UInt8]] = [:]
        for edit in edits {
            guard let flow = flows[edit.flow] else { throw ReplayEditError.flowNotFound(edit.flow) }
            let stored = try flow.requestBody.bodyData(limit: Int(clamping: flow.requestBody.capturedBytes))
            bodies[edit.flow] = try editor.requestBody(of: flow, storedRequestBody: stored, json: edit.json, file: edit.file)
        }
        return bodies
    }
}
