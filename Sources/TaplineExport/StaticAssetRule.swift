import TaplineCapture

/// Decides whether a flow fetched a static asset (image, font, stylesheet,
/// script, source map) — the kind of request `--postman` leaves out unless
/// asked (`--include-static`). By the response's Content-Type, else by the
/// path's extension. Pure.
public enum StaticAssetRule {
    static let extensions: Set<String> = [
        "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff",
        "woff", "woff2", "ttf", "otf", "eot", "css", "js", "mjs", "map",
    ]

    public static func isStatic(_ flow: CapturedFlow) -> Bool {
        if let type = MediaType(flow.response?.headers.first(name: "Content-Type")) {
            if type.type == "image" || type.type == "font" || type.essence == "text/css" || type.isJavaScript
                || type.subtype.hasPrefix("font-") || type.subtype.hasPrefix("x-font") || type.subtype == "vnd.ms-fontobject" {
                return true
            }
            if type.isJSON || type.isXML || type.isHTML || type.type == "text" { return false }
        }
        guard let target = flow.request?.target else { return false }
        var path = target[...]
        if let question = path.firstIndex(of: "?") { path = path[..<question] }
        guard let lastSegment = path.split(separator: "/").last, let dot = lastSegment.lastIndex(of: ".") else { return false }
        return extensions.contains(lastSegment[lastSegment.index(after: dot)...].lowercased())
    }
}
