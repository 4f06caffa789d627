import TaplineProtobuf

/// `tapline proto describe`'s text output: each symbol in `.proto` syntax with type
/// names fully qualified (`.shop.v1.Order`), headed like grpcurl's `X is a message:`.
enum ProtoDescribeText {
    /// Every service, message and enum of the named files, in file order.
    static func lines(describingFiles names: [String], of schema: ProtoSchema) -> [String] {
        var lines: [String] = []
        for file in schema.files where names.contains(file.name) {
            let symbols: [(String, ProtoSymbol)] = file.services.map { ($0.fullName, .service($0)) }
                + file.messages.map { ($0.fullName, .message($0)) } + file.enums.map { ($0.fullName, .enum($0)) }
            for (name, symbol) in symbols {
                if !lines.isEmpty { lines.append("") }
                lines += self.lines(describing: symbol, named: name)
            }
        }
        return lines
    }

    /// `NAME is a KIND:` and the definition.
    static func lines(describing symbol: ProtoSymbol, named name: String) -> [String] {
        var lines = ["\(name) is \(symbol.kindDescription):"]
        switch symbol {
        case .package:
            break
        case .message(let message):
            lines += messageLines(message, indent: "")
        case .enum(let enumeration):
            lines += enumLines(enumeration, indent: "")
        case .service(let service):
            lines.append("service \(service.name) {" + (service.deprecated == true ? " // deprecated" : ""))
            lines += service.methods.map { "  " + methodLine($0) }
            lines.append("}")
        case .method(let method, _):
            lines.append(methodLine(method))
        }
        return lines
    }

    private static func methodLine(_ method: ProtoService.Method) -> String {
        let input = (method.clientStreaming ? "stream " : "") + "." + method.inputType
        let output = (method.serverStreaming ? "stream " : "") + "." + method.outputType
        return "rpc \(method.name) ( \(input) ) returns ( \(output) );" + (method.deprecated == true ? " // deprecated" : "")
    }

    private static func messageLines(_ message: ProtoMessage, indent: String) -> [String] {
        var lines = ["\(indent)message \(message.name) {" + (message.deprecated == true ? " // deprecated" : "")]
        let inner = indent + "  "
        let entries = Dictionary(message.nestedMessages.filter(\.isMapEntry).map { ($0.fullName, $0) }, uniquingKeysWith: { a, _ in a })
        var printedOneofs = Set<Int>()
        for field in message.fields {
            if let oneofIndex = field.oneofIndex, !message.oneofs[oneofIndex].isSynthetic {
                guard printedOneofs.insert(oneofIndex).inserted else { continue }
                lines.append("\(inner)oneof \(message.oneofs[oneofIndex].name) {")
                for member in message.fields where member.oneofIndex == oneofIndex {
                    lines.append(inner + "  " + fieldLine(member, entries: entries))
                }
                lines.append("\(inner)}")
            } else {
                lines.append(inner + fieldLine(field, entries: entries))
            }
        }
        for nested in message.nestedMessages where !nested.isMapEntry {
            lines += messageLines(nested, indent: inner)
        }
        for enumeration in message.enums {
            lines += enumLines(enumeration, indent: inner)
        }
        for range in message.reservedRanges {
            let end = range.end == ProtoParser.maxFieldNumber ? "max" : "\(range.end)"
            lines.append("\(inner)reserved \(range.start == range.end ? "\(range.start)" : "\(range.start) to \(end)");")
        }
        if !message.reservedNames.isEmpty {
            lines.append("\(inner)reserved " + message.reservedNames.map { "\"\($0)\"" }.joined(separator: ", ") + ";")
        }
        lines.append("\(indent)}")
        return lines
    }

    private static func fieldLine(_ field: ProtoField, entries: [String: ProtoMessage]) -> String {
        var type = typeText(field.type)
        var label = ""
        if case .message(let name) = field.type, let entry = entries[name], entry.fields.count == 2 {
            type = "map<\(typeText(entry.fields[0].type)), \(typeText(entry.fields[1].type))>"
        } else {
            switch field.cardinality {
            case .repeated: label = "repeated "
            case .required: label = "required "
            case .optional where field.isProto3Optional || field.oneofIndex == nil: label = "optional "
            default: break
            }
        }
        var options: [String] = []
        if let packed = field.packedOption { options.append("packed = \(packed)") }
        if let value = field.defaultValue {
            options.append(field.type == .string || field.type == .bytes ? "default = \"\(value)\"" : "default = \(value)")
        }
        if field.hasExplicitJSONName { options.append("json_name = \"\(field.jsonName)\"") }
        if let deprecated = field.deprecated { options.append("deprecated = \(deprecated)") }
        let suffix = options.isEmpty ? "" : " [" + options.joined(separator: ", ") + "]"
        return "\(label)\(type) \(field.name) = \(field.number)\(suffix);"
    }

    private static func enumLines(_ enumeration: ProtoEnum, indent: String) -> [String] {
        var lines = ["\(indent)enum \(enumeration.name) {" + (enumeration.deprecated == true ? " // deprecated" : "")]
        if enumeration.allowAlias == true { lines.append("\(indent)  option allow_alias = true;") }
        for value in enumeration.values {
            lines.append("\(indent)  \(value.name) = \(value.number);" + (value.deprecated == true ? " // deprecated" : ""))
        }
        lines.append("\(indent)}")
        return lines
    }

    private static func typeText(_ type: ProtoFieldType) -> String {
        switch type {
        case .message(let name), .enum(let name), .named(let name): "." + name
        default: type.name
        }
    }
}
