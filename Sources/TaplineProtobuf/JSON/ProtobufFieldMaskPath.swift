/// The proto3 JSON form of one `google.protobuf.FieldMask` path, both ways, as protoc's
/// json_format and Go's protojson do it: in JSON each `_x` (x an ASCII lower-case letter)
/// of a path becomes `X`, and each ASCII upper-case letter read back becomes `_x`. A path
/// whose JSON form would not read back as the same path (it holds an upper-case letter, or
/// an `_` not followed by a lower-case letter) has no JSON form; a JSON path holding `_`
/// names no path. Other characters pass through unchanged both ways.
enum ProtobufFieldMaskPath {
    /// The JSON form of `path`, or nil when reading it back would give another path.
    static func jsonForm(of path: String) -> String? {
        var json: [UInt8] = []
        json.reserveCapacity(path.utf8.count)
        var afterUnderscore = false
        for byte in path.utf8 {
            if afterUnderscore {
                guard byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") else { return nil }
                json.append(byte - 32)
                afterUnderscore = false
            } else if byte == UInt8(ascii: "_") {
                afterUnderscore = true
            } else if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                return nil
            } else {
                json.append(byte)
            }
        }
        return afterUnderscore ? nil : String(decoding: json, as: UTF8.self)
    }

    /// The path a JSON form names, or nil when it holds an `_` (no path prints that way).
    static func path(fromJSONForm json: Substring) -> String? {
        var path: [UInt8] = []
        path.reserveCapacity(json.utf8.count + 4)
        for byte in json.utf8 {
            if byte == UInt8(ascii: "_") { return nil }
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                path.append(UInt8(ascii: "_"))
                path.append(byte + 32)
            } else {
                path.append(byte)
            }
        }
        return String(decoding: path, as: UTF8.self)
    }
}
