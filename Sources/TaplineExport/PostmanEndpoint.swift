import TaplineCapture

/// The flows that make one Postman request: same method, origin and path
/// template. Collected in first-seen order by `PostmanExporter`.
struct PostmanEndpoint {
    var method: String
    var url: RequestURL
    var template: PathTemplate
    /// (session id, flow, its URL) in first-seen order.
    var flows: [(session: String, flow: CapturedFlow, url: RequestURL)] = []

    var key: String { Self.key(method: method, origin: url.origin, template: template) }

    static func key(method: String, origin: String, template: PathTemplate) -> String {
        "\(method) \(origin)\(template.text)"
    }

    /// `GET /users/:userId`; WebSocket endpoints read `WS /chat`.
    var name: String {
        "\(method == "GET" && flows.first?.flow.kind == .websocket ? "WS" : method) \(template.text)"
    }
}
