/// Splits a `multipart/form-data` body (RFC 7578) into parts. Untrusted input:
/// a body that does not follow the format yields nil, never a trap. Pure.
public enum MultipartParser {
    public static func parse(_ body: [UInt8], boundary: String) -> [MultipartPart]? {
        guard !boundary.isEmpty else { return nil }
        let delimiter = Array(("--" + boundary).utf8)
        var positions: [Int] = []
        var index = 0
        while let found = find(delimiter, in: body, from: index) {
            positions.append(found)
            index = found + delimiter.count
        }
        guard positions.count >= 2 else { return nil }
        var parts: [MultipartPart] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            var partStart = start + delimiter.count
            // Skip the CRLF after the delimiter.
            if partStart + 1 < body.count, body[partStart] == 0x0D, body[partStart + 1] == 0x0A { partStart += 2 }
            var partEnd = end
            if partEnd - 2 >= partStart, body[partEnd - 2] == 0x0D, body[partEnd - 1] == 0x0A { partEnd -= 2 }
            guard partStart <= partEnd else { return nil }
            let part = Array(body[partStart..<partEnd])
            guard let headEnd = find([0x0D, 0x0A, 0x0D, 0x0A], in: part, from: 0) else { return nil }
            let head = String(decoding: part[..<headEnd], as: UTF8.self)
            var name: String?
            var fileName: String?
            var contentType: String?
            for line in head.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let field = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...]
                if field == "content-disposition" {
                    for parameter in value.split(separator: ";").dropFirst() {
                        guard let equals = parameter.firstIndex(of: "=") else { continue }
                        let key = parameter[..<equals].trimmed.lowercased()
                        var text = parameter[parameter.index(after: equals)...].trimmed
                        if text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
                        if key == "name" { name = text }
                        if key == "filename" { fileName = text }
                    }
                } else if field == "content-type" {
                    contentType = value.trimmed
                }
            }
            guard let name else { return nil }
            parts.append(MultipartPart(name: name, fileName: fileName, contentType: contentType,
                                       body: Array(part[(headEnd + 4)...])))
        }
        return parts
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0] {
                var match = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    match = false
                    break
                }
                if match { return index }
            }
            index += 1
        }
        return nil
    }
}
