/// Parses one `.proto` file's text into a `ProtoFile` whose field and method types are
/// still as written (`ProtoFieldType.named`); `ProtoSchema` resolves them against the
/// file's imports.
///
/// Covers proto3 and the proto2 features real files use: syntax/edition, package,
/// import (public, weak), options (aggregate values skipped), messages, enums,
/// services with streaming rpcs, oneof, map, labels, field options (`packed`,
/// `default`, `json_name`, `deprecated`), reserved, `extensions` and `extend`
/// (skipped). A proto2 `group` is rejected. Checks within a message: duplicate names
/// and numbers, reserved numbers and names, the field number range.
/// Pure: no I/O; a value type used once per file.
public struct ProtoParser {
    /// The largest field number (2^29 - 1); `max` in a message's reserved or extension range.
    public static let maxFieldNumber: Int64 = 536_870_911

    private let tokens: [ProtoToken]
    private let fileName: String
    private let endLocation: ProtoSourceLocation
    private var index = 0
    private var file: ProtoFile

    private init(tokens: [ProtoToken], fileName: String, endLocation: ProtoSourceLocation) {
        self.tokens = tokens
        self.fileName = fileName
        self.endLocation = endLocation
        file = ProtoFile(name: fileName)
    }

    /// Parses `text`, the contents of the file imported as `name`.
    public static func parse(text: String, name: String) throws(ProtoSchemaError) -> ProtoFile {
        let tokens = try ProtoTokenizer.tokens(of: text, file: name)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let end = ProtoSourceLocation(file: name, line: lines.count, column: (lines.last?.utf8.count ?? 0) + 1)
        var parser = ProtoParser(tokens: tokens, fileName: name, endLocation: end)
        try parser.parseFile()
        return parser.file
    }

    // MARK: File

    private mutating func parseFile() throws(ProtoSchemaError) {
        if isWord("syntax") {
            index += 1
            try expectSymbol("=")
            let token = try peekToken()
            let value = String(decoding: try parseStrings(), as: UTF8.self)
            switch value {
            case "proto2": file.syntax = .proto2
            case "proto3": file.syntax = .proto3
            default: throw error("unknown syntax \"\(value)\": expected \"proto2\" or \"proto3\"", at: token.location)
            }
            try expectSymbol(";")
        } else if isWord("edition") {
            index += 1
            try expectSymbol("=")
            file.syntax = .edition(String(decoding: try parseStrings(), as: UTF8.self))
            try expectSymbol(";")
        }
        var sawPackage = false
        while index < tokens.count {
            let token = tokens[index]
            if isSymbol(";") {
                index += 1
                continue
            }
            switch token.kind == .identifier ? token.text : "" {
            case "package":
                guard !sawPackage else { throw error("multiple package statements", at: token.location) }
                sawPackage = true
                index += 1
                file.package = try parseFullIdentifier()
                try expectSymbol(";")
            case "import":
                index += 1
                var kind = ProtoImport.Kind.normal
                if isWord("public") {
                    kind = .public
                    index += 1
                } else if isWord("weak") {
                    kind = .weak
                    index += 1
                }
                let path = String(decoding: try parseStrings(), as: UTF8.self)
                try expectSymbol(";")
                file.imports.append(ProtoImport(path: path, kind: kind, location: token.location))
            case "option":
                let (name, value) = try parseOptionStatement()
                if name == "deprecated" { file.deprecated = try boolOption(name, value, at: token.location) }
            case "message":
                index += 1
                file.messages.append(try parseMessage(scope: file.package))
            case "enum":
                index += 1
                file.enums.append(try parseEnum(scope: file.package))
            case "service":
                index += 1
                file.services.append(try parseService())
            case "extend":
                index += 1
                try skipExtend()
            default:
                throw error("expected a top-level statement (message, enum, service, import, package, option or extend), found \(describe(token))",
                            at: token.location)
            }
        }
        try checkDuplicateTopLevelNames()
    }

    private func checkDuplicateTopLevelNames() throws(ProtoSchemaError) {
        var seen = Set<String>()
        let named = file.messages.map { ($0.name, $0.location) } + file.enums.map { ($0.name, $0.location) }
            + file.services.map { ($0.name, $0.location) }
        for (name, location) in named.sorted(by: { ($0.1.line, $0.1.column) < ($1.1.line, $1.1.column) }) {
            guard seen.insert(name).inserted else {
                throw ProtoSchemaError(.duplicateName(file.package.isEmpty ? name : file.package + "." + name, previousFile: nil), at: location)
            }
        }
    }

    // MARK: Messages

    private mutating func parseMessage(scope: String) throws(ProtoSchemaError) -> ProtoMessage {
        let nameToken = try expectIdentifier()
        var message = ProtoMessage(name: nameToken.text, fullName: Self.join(scope, nameToken.text), location: nameToken.location)
        try expectSymbol("{")
        while !isSymbol("}") {
            let token = try peekToken()
            if isSymbol(";") {
                index += 1
                continue
            }
            switch token.kind == .identifier ? token.text : "" {
            case "message":
                index += 1
                message.nestedMessages.append(try parseMessage(scope: message.fullName))
            case "enum":
                index += 1
                message.enums.append(try parseEnum(scope: message.fullName))
            case "oneof":
                index += 1
                try parseOneof(into: &message)
            case "map" where isSymbol("<", ahead: 1):
                index += 1
                try parseMapField(into: &message)
            case "reserved":
                index += 1
                try parseReserved(ranges: &message.reservedRanges, names: &message.reservedNames, max: Self.maxFieldNumber)
            case "extensions":
                index += 1
                message.extensionRanges += try parseRanges(max: Self.maxFieldNumber, allowNegative: false)
                if isSymbol("[") { _ = try parseFieldOptions() }
                try expectSymbol(";")
            case "extend":
                index += 1
                try skipExtend()
            case "option":
                let (name, value) = try parseOptionStatement()
                if name == "deprecated" { message.deprecated = try boolOption(name, value, at: token.location) }
            default:
                try parseField(into: &message, oneofIndex: nil)
            }
        }
        index += 1
        try addSyntheticOneofs(to: &message)
        try checkFields(of: message)
        return message
    }

    private mutating func parseField(into message: inout ProtoMessage, oneofIndex: Int?) throws(ProtoSchemaError) {
        let start = try peekToken()
        var cardinality: ProtoFieldCardinality = oneofIndex == nil ? .singular : .optional
        var labelled = false
        if start.kind == .identifier, ["optional", "repeated", "required"].contains(start.text), !isSymbol("=", ahead: 2) {
            guard oneofIndex == nil else { throw error("fields in a oneof must not have labels", at: start.location) }
            labelled = true
            index += 1
            switch start.text {
            case "repeated": cardinality = .repeated
            case "required":
                guard file.syntax == .proto2 else { throw error("required fields are not allowed in proto3", at: start.location) }
                cardinality = .required
            default: cardinality = .optional
            }
        } else if file.syntax == .proto2, oneofIndex == nil, !isWord("group") {
            throw error("expected \"required\", \"optional\", or \"repeated\" before the field (proto2 fields need a label)",
                        at: start.location)
        }
        if isWord("group") {
            let groupName = index + 1 < tokens.count ? tokens[index + 1].text : "group"
            throw ProtoSchemaError(.groupNotSupported(groupName), at: tokens[index].location)
        }
        let typeToken = try peekToken()
        let typeName = try parseTypeName()
        let type = ProtoFieldType(keyword: typeName) ?? .named(typeName)
        let nameToken = try expectIdentifier()
        try expectSymbol("=")
        let number = try parseFieldNumber()
        var field = ProtoField(name: nameToken.text, number: number, jsonName: ProtoField.defaultJSONName(for: nameToken.text),
                               hasExplicitJSONName: false, cardinality: cardinality,
                               isProto3Optional: labelled && cardinality == .optional && file.syntax != .proto2,
                               type: type, oneofIndex: oneofIndex, packedOption: nil, isPacked: false, defaultValue: nil,
                               deprecated: nil, location: nameToken.location, typeLocation: typeToken.location)
        if isSymbol("[") {
            for (name, value, location) in try parseFieldOptions() {
                try apply(option: name, value: value, at: location, to: &field)
            }
        }
        try expectSymbol(";")
        message.fields.append(field)
    }

    private mutating func apply(option name: String, value: ProtoOptionValue, at location: ProtoSourceLocation,
                                to field: inout ProtoField) throws(ProtoSchemaError) {
        switch name {
        case "packed":
            field.packedOption = try boolOption(name, value, at: location)
        case "deprecated":
            field.deprecated = try boolOption(name, value, at: location)
        case "json_name":
            guard case .string(let bytes) = value else { throw ProtoSchemaError(.invalidOption("json_name takes a string"), at: location) }
            field.jsonName = String(decoding: bytes, as: UTF8.self)
            field.hasExplicitJSONName = true
        case "default":
            guard file.syntax == .proto2 else { throw ProtoSchemaError(.invalidOption("explicit default values are not allowed in proto3"), at: location) }
            guard field.cardinality != .repeated else { throw ProtoSchemaError(.invalidOption("repeated fields cannot have default values"), at: location) }
            switch value.defaultValueText(for: field.type) {
            case .success(let text): field.defaultValue = text
            case .failure(let mismatch): throw ProtoSchemaError(.invalidOption("default of `\(field.name)`: \(mismatch.message)"), at: location)
            }
        default:
            break
        }
    }

    private mutating func parseMapField(into message: inout ProtoMessage) throws(ProtoSchemaError) {
        try expectSymbol("<")
        let keyToken = try peekToken()
        let keyName = try parseTypeName()
        guard let keyType = ProtoFieldType(keyword: keyName), keyType != .double, keyType != .float, keyType != .bytes else {
            throw error("map keys must be an integer type, bool or string, not `\(keyName)`", at: keyToken.location)
        }
        try expectSymbol(",")
        let valueToken = try peekToken()
        let valueName = try parseTypeName()
        try expectSymbol(">")
        let nameToken = try expectIdentifier()
        try expectSymbol("=")
        let number = try parseFieldNumber()
        let entryName = Self.mapEntryName(for: nameToken.text)
        var entry = ProtoMessage(name: entryName, fullName: Self.join(message.fullName, entryName), location: nameToken.location)
        entry.isMapEntry = true
        let entryCardinality: ProtoFieldCardinality = file.syntax == .proto2 ? .optional : .singular
        entry.fields = [
            Self.mapEntryField("key", number: 1, type: keyType, cardinality: entryCardinality, at: keyToken.location),
            Self.mapEntryField("value", number: 2, type: ProtoFieldType(keyword: valueName) ?? .named(valueName),
                               cardinality: entryCardinality, at: valueToken.location),
        ]
        var field = ProtoField(name: nameToken.text, number: number, jsonName: ProtoField.defaultJSONName(for: nameToken.text),
                               hasExplicitJSONName: false, cardinality: .repeated, isProto3Optional: false,
                               type: .message(entry.fullName), oneofIndex: nil, packedOption: nil, isPacked: false,
                               defaultValue: nil, deprecated: nil, location: nameToken.location, typeLocation: nameToken.location)
        if isSymbol("[") {
            for (name, value, location) in try parseFieldOptions() {
                try apply(option: name, value: value, at: location, to: &field)
            }
        }
        try expectSymbol(";")
        message.nestedMessages.append(entry)
        message.fields.append(field)
    }

    /// The `key` or `value` field of a map entry message.
    private static func mapEntryField(_ name: String, number: Int64, type: ProtoFieldType, cardinality: ProtoFieldCardinality,
                                      at location: ProtoSourceLocation) -> ProtoField {
        ProtoField(name: name, number: number, jsonName: name, hasExplicitJSONName: false, cardinality: cardinality,
                   isProto3Optional: false, type: type, oneofIndex: nil, packedOption: nil, isPacked: false,
                   defaultValue: nil, deprecated: nil, location: location, typeLocation: location)
    }

    private mutating func parseOneof(into message: inout ProtoMessage) throws(ProtoSchemaError) {
        let nameToken = try expectIdentifier()
        let oneofIndex = message.oneofs.count
        message.oneofs.append(ProtoOneof(name: nameToken.text, isSynthetic: false))
        try expectSymbol("{")
        while !isSymbol("}") {
            if isSymbol(";") {
                index += 1
            } else if isWord("option") {
                _ = try parseOptionStatement()
            } else {
                try parseField(into: &message, oneofIndex: oneofIndex)
            }
        }
        index += 1
    }

    /// protoc's synthetic oneofs: one per proto3 `optional` field, after the real ones, named `_field`
    /// (prefixed with `X` until the name is free).
    private func addSyntheticOneofs(to message: inout ProtoMessage) throws(ProtoSchemaError) {
        var names = Set(message.fields.map(\.name) + message.oneofs.map(\.name))
        for position in message.fields.indices where message.fields[position].isProto3Optional {
            var name = message.fields[position].name
            if !name.hasPrefix("_") { name = "_" + name }
            while names.contains(name) { name = "X" + name }
            names.insert(name)
            message.fields[position].oneofIndex = message.oneofs.count
            message.oneofs.append(ProtoOneof(name: name, isSynthetic: true))
        }
    }

    private func checkFields(of message: ProtoMessage) throws(ProtoSchemaError) {
        var byNumber: [Int64: String] = [:]
        var names = Set<String>()
        for field in message.fields {
            guard names.insert(field.name).inserted else {
                throw ProtoSchemaError(.duplicateName(message.fullName + "." + field.name, previousFile: nil), at: field.location)
            }
            if let previous = byNumber[field.number] {
                throw ProtoSchemaError(.duplicateNumber(number: field.number, name: field.name, previous: previous), at: field.location)
            }
            byNumber[field.number] = field.name
            if message.reservedRanges.contains(where: { $0.contains(field.number) }) {
                throw ProtoSchemaError(.invalidNumber("field `\(field.name)` uses number \(field.number), which \(message.name) reserves"),
                                       at: field.location)
            }
            if message.reservedNames.contains(field.name) {
                throw ProtoSchemaError(.invalidNumber("field name `\(field.name)` is reserved in \(message.name)"), at: field.location)
            }
        }
        var nested = Set<String>()
        for type in message.nestedMessages.map({ ($0.name, $0.location) }) + message.enums.map({ ($0.name, $0.location) }) {
            guard nested.insert(type.0).inserted else {
                throw ProtoSchemaError(.duplicateName(message.fullName + "." + type.0, previousFile: nil), at: type.1)
            }
        }
    }

    private mutating func parseFieldNumber() throws(ProtoSchemaError) -> Int64 {
        let token = try peekToken()
        guard token.kind == .integer, let value = ProtoOptionValue.unsignedValue(token.text) else {
            throw error("expected a field number, found \(describe(token))", at: token.location)
        }
        index += 1
        guard value >= 1, value <= UInt64(Self.maxFieldNumber) else {
            throw ProtoSchemaError(.invalidNumber("field numbers must be from 1 to \(Self.maxFieldNumber), not \(value)"), at: token.location)
        }
        guard !(19000...19999).contains(value) else {
            throw ProtoSchemaError(.invalidNumber("field numbers 19000 to 19999 are reserved for the protobuf implementation"),
                                   at: token.location)
        }
        return Int64(value)
    }

    // MARK: Enums

    private mutating func parseEnum(scope: String) throws(ProtoSchemaError) -> ProtoEnum {
        let nameToken = try expectIdentifier()
        var enumeration = ProtoEnum(name: nameToken.text, fullName: Self.join(scope, nameToken.text), location: nameToken.location)
        try expectSymbol("{")
        while !isSymbol("}") {
            let token = try peekToken()
            if isSymbol(";") {
                index += 1
            } else if isWord("option") {
                let (name, value) = try parseOptionStatement()
                if name == "allow_alias" { enumeration.allowAlias = try boolOption(name, value, at: token.location) }
                if name == "deprecated" { enumeration.deprecated = try boolOption(name, value, at: token.location) }
            } else if isWord("reserved") {
                index += 1
                try parseReserved(ranges: &enumeration.reservedRanges, names: &enumeration.reservedNames, max: Int64(Int32.max))
            } else {
                let valueName = try expectIdentifier()
                try expectSymbol("=")
                let number = try parseSignedInteger(range: Int64(Int32.min)...Int64(Int32.max))
                var value = ProtoEnum.Value(name: valueName.text, number: number, deprecated: nil, location: valueName.location)
                if isSymbol("[") {
                    for (name, option, location) in try parseFieldOptions() where name == "deprecated" {
                        value.deprecated = try boolOption(name, option, at: location)
                    }
                }
                try expectSymbol(";")
                enumeration.values.append(value)
            }
        }
        index += 1
        try checkValues(of: enumeration)
        return enumeration
    }

    private func checkValues(of enumeration: ProtoEnum) throws(ProtoSchemaError) {
        guard let first = enumeration.values.first else {
            throw error("enum \(enumeration.name) must have at least one value", at: enumeration.location)
        }
        if file.syntax == .proto3, first.number != 0 {
            throw ProtoSchemaError(.invalidNumber("the first value of a proto3 enum must be 0 (`\(first.name)` is \(first.number))"),
                                   at: first.location)
        }
        var byNumber: [Int64: String] = [:]
        var names = Set<String>()
        for value in enumeration.values {
            guard names.insert(value.name).inserted else {
                throw ProtoSchemaError(.duplicateName(enumeration.fullName + "." + value.name, previousFile: nil), at: value.location)
            }
            if let previous = byNumber[value.number], enumeration.allowAlias != true {
                throw ProtoSchemaError(.enumAliasNotAllowed(number: value.number, name: value.name, previous: previous),
                                       at: value.location)
            }
            byNumber[value.number] = byNumber[value.number] ?? value.name
        }
    }

    // MARK: Services

    private mutating func parseService() throws(ProtoSchemaError) -> ProtoService {
        let nameToken = try expectIdentifier()
        var service = ProtoService(name: nameToken.text, fullName: Self.join(file.package, nameToken.text), location: nameToken.location)
        try expectSymbol("{")
        while !isSymbol("}") {
            let token = try peekToken()
            if isSymbol(";") {
                index += 1
            } else if isWord("option") {
                let (name, value) = try parseOptionStatement()
                if name == "deprecated" { service.deprecated = try boolOption(name, value, at: token.location) }
            } else if isWord("rpc") {
                index += 1
                service.methods.append(try parseMethod())
            } else {
                throw error("expected \"rpc\" or \"option\" in service \(service.name), found \(describe(token))", at: token.location)
            }
        }
        index += 1
        var names = Set<String>()
        for method in service.methods where !names.insert(method.name).inserted {
            throw ProtoSchemaError(.duplicateName(service.fullName + "." + method.name, previousFile: nil), at: method.location)
        }
        return service
    }

    private mutating func parseMethod() throws(ProtoSchemaError) -> ProtoService.Method {
        let nameToken = try expectIdentifier()
        let (clientStreaming, inputToken, input) = try parseMethodType()
        guard isWord("returns") else { throw error("expected \"returns\", found \(describe(try peekToken()))", at: try peekToken().location) }
        index += 1
        let (serverStreaming, outputToken, output) = try parseMethodType()
        var method = ProtoService.Method(name: nameToken.text, inputType: input, outputType: output, clientStreaming: clientStreaming,
                                         serverStreaming: serverStreaming, deprecated: nil, location: nameToken.location,
                                         inputTypeLocation: inputToken.location, outputTypeLocation: outputToken.location)
        if isSymbol("{") {
            index += 1
            while !isSymbol("}") {
                let token = try peekToken()
                if isSymbol(";") {
                    index += 1
                } else if isWord("option") {
                    let (name, value) = try parseOptionStatement()
                    if name == "deprecated" { method.deprecated = try boolOption(name, value, at: token.location) }
                } else {
                    throw error("expected \"option\" in rpc \(method.name), found \(describe(token))", at: token.location)
                }
            }
            index += 1
        } else {
            try expectSymbol(";")
        }
        return method
    }

    /// `( [stream] Type )`: whether it streams, the type's first token, the type name.
    private mutating func parseMethodType() throws(ProtoSchemaError) -> (Bool, ProtoToken, String) {
        try expectSymbol("(")
        var streaming = false
        if isWord("stream"), !isSymbol(")", ahead: 1) {
            streaming = true
            index += 1
        }
        let token = try peekToken()
        let name = try parseTypeName()
        try expectSymbol(")")
        return (streaming, token, name)
    }

    // MARK: Shared statements

    private mutating func parseReserved(ranges: inout [ProtoNumberRange], names: inout [String], max: Int64) throws(ProtoSchemaError) {
        let token = try peekToken()
        if token.kind == .string || token.kind == .identifier {
            repeat {
                let nameToken = try peekToken()
                if nameToken.kind == .string {
                    names.append(String(decoding: try parseStrings(), as: UTF8.self))
                } else {
                    names.append(try expectIdentifier().text)
                }
            } while try consumeSymbol(",")
        } else {
            ranges += try parseRanges(max: max, allowNegative: max != Self.maxFieldNumber)
        }
        try expectSymbol(";")
    }

    private mutating func parseRanges(max: Int64, allowNegative: Bool) throws(ProtoSchemaError) -> [ProtoNumberRange] {
        var ranges: [ProtoNumberRange] = []
        let lowest: Int64 = allowNegative ? Int64(Int32.min) : 1
        repeat {
            let startToken = try peekToken()
            let start = try parseSignedInteger(range: lowest...max)
            var end = start
            if isWord("to") {
                index += 1
                if isWord("max") {
                    index += 1
                    end = max
                } else {
                    end = try parseSignedInteger(range: lowest...max)
                }
            }
            guard start <= end else { throw error("range \(start) to \(end) is empty: its start is above its end", at: startToken.location) }
            ranges.append(ProtoNumberRange(start: start, end: end))
        } while try consumeSymbol(",")
        return ranges
    }

    private mutating func parseSignedInteger(range: ClosedRange<Int64>) throws(ProtoSchemaError) -> Int64 {
        let negative = try consumeSymbol("-")
        let token = try peekToken()
        guard token.kind == .integer, let magnitude = ProtoOptionValue.unsignedValue(token.text), magnitude <= UInt64(Int64.max) else {
            throw error("expected an integer, found \(describe(token))", at: token.location)
        }
        index += 1
        let value = negative ? -Int64(magnitude) : Int64(magnitude)
        guard range.contains(value) else {
            throw ProtoSchemaError(.invalidNumber("\(value) is outside \(range.lowerBound) to \(range.upperBound)"), at: token.location)
        }
        return value
    }

    /// `extend Type { ... }`: the extended type is noted, the block's fields skipped.
    private mutating func skipExtend() throws(ProtoSchemaError) {
        file.extendedTypes.append(try parseTypeName())
        try expectSymbol("{")
        try skipBalancedBraces()
    }

    /// After an opening `{`: skips tokens up to and including its matching `}`.
    private mutating func skipBalancedBraces() throws(ProtoSchemaError) {
        var depth = 1
        while depth > 0 {
            let token = try peekToken()
            if token.kind == .symbol, token.text == "{" { depth += 1 }
            if token.kind == .symbol, token.text == "}" { depth -= 1 }
            index += 1
        }
    }

    /// `option name = value;`, at the `option` keyword.
    private mutating func parseOptionStatement() throws(ProtoSchemaError) -> (String, ProtoOptionValue) {
        index += 1
        let assignment = try parseOptionAssignment()
        try expectSymbol(";")
        return assignment
    }

    /// `name = value` after `option`; the name is the option's name as written, with custom parts in parentheses.
    private mutating func parseOptionAssignment() throws(ProtoSchemaError) -> (String, ProtoOptionValue) {
        let name = try parseOptionName()
        try expectSymbol("=")
        return (name, try parseOptionValue())
    }

    /// `[name = value, ...]` of a field, enum value or extension range.
    private mutating func parseFieldOptions() throws(ProtoSchemaError) -> [(String, ProtoOptionValue, ProtoSourceLocation)] {
        try expectSymbol("[")
        var options: [(String, ProtoOptionValue, ProtoSourceLocation)] = []
        repeat {
            let location = try peekToken().location
            let (name, value) = try parseOptionAssignment()
            options.append((name, value, location))
        } while try consumeSymbol(",")
        try expectSymbol("]")
        return options
    }

    private mutating func parseOptionName() throws(ProtoSchemaError) -> String {
        var name = ""
        repeat {
            if !name.isEmpty { name += "." }
            if try consumeSymbol("(") {
                let leadingDot = try consumeSymbol(".")
                name += "(" + (leadingDot ? "." : "") + (try parseFullIdentifier()) + ")"
                try expectSymbol(")")
            } else {
                name += try expectIdentifier().text
            }
        } while try consumeSymbol(".")
        return name
    }

    private mutating func parseOptionValue() throws(ProtoSchemaError) -> ProtoOptionValue {
        if try consumeSymbol("{") {
            try skipBalancedBraces()
            return .aggregate
        }
        let negative = try consumeSymbol("-")
        if !negative { _ = try consumeSymbol("+") }
        let token = try peekToken()
        switch token.kind {
        case .integer:
            index += 1
            return .integer(token.text, negative: negative)
        case .float:
            index += 1
            return .float(token.text, negative: negative)
        case .identifier:
            index += 1
            return .identifier(token.text, negative: negative)
        case .string where !negative:
            return .string(try parseStrings())
        default:
            throw error("expected an option value, found \(describe(token))", at: token.location)
        }
    }

    private func boolOption(_ name: String, _ value: ProtoOptionValue, at location: ProtoSourceLocation) throws(ProtoSchemaError) -> Bool {
        guard let bool = value.bool else { throw ProtoSchemaError(.invalidOption("option \(name) takes true or false"), at: location) }
        return bool
    }

    // MARK: Tokens

    /// One or more adjacent string literals, concatenated.
    private mutating func parseStrings() throws(ProtoSchemaError) -> [UInt8] {
        let token = try peekToken()
        guard token.kind == .string else { throw error("expected a string, found \(describe(token))", at: token.location) }
        var bytes: [UInt8] = []
        while index < tokens.count, tokens[index].kind == .string {
            bytes += tokens[index].bytes
            index += 1
        }
        return bytes
    }

    /// `a.b.c`.
    private mutating func parseFullIdentifier() throws(ProtoSchemaError) -> String {
        var name = try expectIdentifier().text
        while try consumeSymbol(".") {
            name += "." + (try expectIdentifier().text)
        }
        return name
    }

    /// A type name: `int32`, `Item`, `Order.Item`, `.shop.v1.Item`.
    private mutating func parseTypeName() throws(ProtoSchemaError) -> String {
        let leadingDot = try consumeSymbol(".")
        let name = try parseFullIdentifier()
        return leadingDot ? "." + name : name
    }

    private func peekToken() throws(ProtoSchemaError) -> ProtoToken {
        guard index < tokens.count else { throw error("unexpected end of file", at: endLocation) }
        return tokens[index]
    }

    private func isSymbol(_ symbol: String, ahead: Int = 0) -> Bool {
        index + ahead < tokens.count && tokens[index + ahead].kind == .symbol && tokens[index + ahead].text == symbol
    }

    private func isWord(_ word: String) -> Bool {
        index < tokens.count && tokens[index].kind == .identifier && tokens[index].text == word
    }

    private mutating func consumeSymbol(_ symbol: String) throws(ProtoSchemaError) -> Bool {
        guard isSymbol(symbol) else { return false }
        index += 1
        return true
    }

    private mutating func expectSymbol(_ symbol: String) throws(ProtoSchemaError) {
        let token = try peekToken()
        guard token.kind == .symbol, token.text == symbol else {
            throw error("expected \"\(symbol)\", found \(describe(token))", at: token.location)
        }
        index += 1
    }

    private mutating func expectIdentifier() throws(ProtoSchemaError) -> ProtoToken {
        let token = try peekToken()
        guard token.kind == .identifier else { throw error("expected a name, found \(describe(token))", at: token.location) }
        index += 1
        return token
    }

    private func describe(_ token: ProtoToken) -> String {
        token.kind == .string ? "string \(token.text)" : "\"\(token.text)\""
    }

    private func error(_ message: String, at location: ProtoSourceLocation) -> ProtoSchemaError {
        ProtoSchemaError(.syntax(message), at: location)
    }

    private static func join(_ scope: String, _ name: String) -> String { scope.isEmpty ? name : scope + "." + name }

    /// protoc's name for a map field's entry message: `item_counts` → `ItemCountsEntry`.
    static func mapEntryName(for fieldName: String) -> String {
        ProtoField.camelCased(fieldName, capitalizingFirst: true) + "Entry"
    }
}
