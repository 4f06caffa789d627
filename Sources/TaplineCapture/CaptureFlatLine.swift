import TaplineWire

/// One events.jsonl line read directly, for the plain shape nearly every line has: one
/// object of members whose values are strings, non-negative integers, `true`/`false`,
/// lists of `[name, value]` string pairs (headers, trailers), or objects of such
/// scalars (`timings`, `error`), written without whitespace.
///
/// Reading checks the whole line and keeps each member the assembler reads in the
/// fixed slot of its name (`CaptureLineKey`, matched on the name's bytes: first as the
/// member the slots expect next, `Slots.following`, else through the table; other
/// members are checked and skipped): integers and booleans as values, strings, pair
/// lists and objects as where they are in the line. An object's members are read into
/// the slots' `objectSlots` as the line is read (once: the object a line has last is
/// there when asked for; an earlier one is read again from its bytes). Nothing is
/// allocated until an accessor asks: a `String` only for a string asked for (a listed
/// one is handed out, `CaptureJSONKnownStrings`), a pair list straight into
/// `HTTPHeaders` from its bytes. Building a `CaptureJSONValue` tree
/// per line, and a `String` per member name, were most of the instructions of reading
/// a capture.
///
/// Anything else (`\u` escapes, non-ASCII bytes, control characters, whitespace,
/// deeper nesting such as `tls`'s `peer`, `null`, negative or fractional numbers,
/// other arrays, empty objects, a line of 2 GiB or more, any damage) makes `init`
/// return nil, and the caller reads the line with `CaptureJSONParser` instead.
/// Invariant (`CaptureLineFields`): for a line this reader takes, every accessor
/// returns what `CaptureJSONObject` returns for the parser's tree of the same line
/// (duplicate names: the last one), so the reader chosen never changes a result.
/// Every line it takes is valid JSON.
///
/// A view of the caller's bytes and of the `Slots` it was read into: use it only while
/// the bytes are valid and unchanged (inside the `withUnsafeBufferPointer` that gave
/// them) and before another line is read into the same slots; made and read on the
/// caller's thread.
struct CaptureFlatLine: CaptureLineFields {
    /// Where one member is in the line, or the value itself for a number or boolean.
    fileprivate struct Slot {
        enum Kind: UInt8 {
            case absent
            /// `start..<end`: the bytes between the quotes, without escapes.
            case string
            /// `start..<end`: the bytes between the quotes, with escapes (`\"` and the like).
            case escapedString
            /// `number`.
            case integer
            /// `number`: 1 for true, 0 for false.
            case bool
            /// `start..<end`: the list, brackets included; `number`: its fields << 32 |
            /// the bytes of their names and values as written (an escape counted as two).
            case pairs
            /// `start..<end`: the object, braces included; `number`: the
            /// `Slots.line` its members were read into `objectSlots` as.
            case object
        }

        var kind = Kind.absent
        /// Of a `type` member's `string` slot: the listed type its bytes name, if one
        /// (found as the member is read, so that `eventType` looks nothing up).
        var eventType: CaptureEventType?
        var start: Int32 = 0
        var end: Int32 = 0
        /// The `Slots.line` it was written for: a slot of an earlier line is absent.
        var line: UInt32 = 0
        var number: Int64 = 0

        /// The `start..<end` bytes of a line at `base`.
        @inline(__always)
        func bytes(in base: UnsafePointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: base + Int(start), count: Int(end &- start))
        }
    }

    /// Where the slots of the line read last are: one per `CaptureLineKey` (its
    /// `rawValue`), written by each `init` that is given it. Its owner (a
    /// `CapturedSessionAssembler`) reuses one for line after line, so reading a line
    /// allocates nothing and clears nothing (a slot written for an earlier line, by its
    /// `line` number, is absent); a line read into it is valid until the next one is.
    /// Not thread-safe: one owner, on its thread.
    final class Slots {
        fileprivate let pointer: UnsafeMutablePointer<Slot>
        /// The number of the line read last (from 1; slots start at 0).
        fileprivate private(set) var line: UInt32 = 0
        /// Where the members of an object a line has are read (one object at a time, as
        /// lines are: each object read takes the next `line` number here).
        fileprivate lazy var objectSlots = Slots()
        /// The header lists `headers` built last (by their bytes), handed out again when a
        /// line repeats one.
        fileprivate var headerLists = CaptureHeaderListMemo()
        /// `CaptureLineKey.names`' and `CaptureEventType.names`' lookups, the event types
        /// and `CaptureJSONKnownStrings.shared`, held so that matching a member's name or
        /// a type or handing out a listed string does not go through a global's
        /// initialisation check each time (the globals keep the tables for the life of
        /// the process; a lookup is plain pointers, retained by nothing).
        fileprivate let keyNames = CaptureLineKey.names.lookup
        fileprivate let eventTypeNames = CaptureEventType.names.lookup
        fileprivate let eventTypes = CaptureEventType.cases
        fileprivate let knownStrings = CaptureJSONKnownStrings.shared
        fileprivate let memberStarts = CaptureLineKeyMemberStarts.shared.lookup
        /// One row per event type (its place in `CaptureEventType.cases`) and a last one
        /// (`untyped`) for members read before a line's type is known: per key (its
        /// `rawValue`), the key of the member that followed it the last time it was read
        /// into these slots in a line of that type (`noKey` when that member's name was
        /// none of the keys, or before any was); at `lineStart`, the first member's, and
        /// at `unlisted`, the one after an unlisted name. A writer writes the members of a
        /// type of line in one order, so the next member is mostly the one expected (the
        /// one after `flow` too, which differs from type to type), and its name is matched
        /// with a few word compares (`CaptureLineKeyMemberStarts`); any other is read the
        /// general way. Only which name is compared first depends on it, never what a
        /// line reads as. `rowCount` rows of `rowLength` entries (under 2 KiB).
        fileprivate let following: UnsafeMutablePointer<UInt8>
        fileprivate static let lineStart = CaptureLineKey.count
        fileprivate static let unlisted = CaptureLineKey.count + 1
        fileprivate static let noKey = UInt8.max
        fileprivate static let rowLength = CaptureLineKey.count + 2
        fileprivate static let untyped = CaptureEventType.cases.count
        private static let rowCount = CaptureEventType.cases.count + 1

        init() {
            pointer = .allocate(capacity: CaptureLineKey.count)
            pointer.initialize(repeating: Slot(), count: CaptureLineKey.count)
            following = .allocate(capacity: Self.rowLength * Self.rowCount)
            following.initialize(repeating: Self.noKey, count: Self.rowLength * Self.rowCount)
        }

        /// `following`'s row for lines of the type at `index` in `CaptureEventType.cases`,
        /// or (`untyped`) for members before a line's type.
        @inline(__always)
        fileprivate func followingRow(_ index: Int) -> UnsafeMutablePointer<UInt8> {
            following + index &* Self.rowLength
        }

        /// The index `followingRow` was given for `row`.
        @inline(__always)
        fileprivate func rowIndex(of row: UnsafeMutablePointer<UInt8>) -> Int {
            (row - following) / Self.rowLength
        }

        /// Completes the slot of a `type` member read as a string without escapes with the
        /// type it names (`typeSlot`); returns that type's row of `following`. Out of the
        /// member loop, which meets one such member a line.
        @inline(never)
        fileprivate func noteType(_ slot: inout Slot, base: UnsafePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
            let row: Int
            (slot, row) = typeSlot(base: base, start: slot.start, end: slot.end, line: slot.line)
            return followingRow(row)
        }

        /// The slot of a `type` member that is a string without escapes at `start..<end`
        /// of the line at `base` (marked `line`), with the type it names, and that type's
        /// row of `following` (`untyped` for a type not listed).
        @inline(__always)
        fileprivate func typeSlot(base: UnsafePointer<UInt8>, start: Int32, end: Int32,
                                  line: UInt32) -> (slot: Slot, row: Int) {
            let index = eventTypeNames.index(of: base + Int(start), count: Int(end &- start))
            return (Slot(kind: .string, eventType: index.map { eventTypes[$0] }, start: start, end: end, line: line),
                    index ?? Self.untyped)
        }

        deinit {
            pointer.deallocate()
            following.deallocate()
        }

        /// Makes every slot absent, for the next line.
        @inline(__always)
        fileprivate func startLine() {
            line &+= 1
            if line == 0 {  // after 2^32 lines: old numbers would come round again
                pointer.update(repeating: Slot(), count: CaptureLineKey.count)
                line = 1
            }
        }
    }

    private let base: UnsafePointer<UInt8>
    private let slots: Slots
    /// This line's number in `slots` (once another line is read into them, this view
    /// finds none of the members that line wrote, rather than finding its values).
    private let line: UInt32

    /// The line in `bytes` (no line terminator), read into `slots` (overwriting the line
    /// read into them before), or nil when it is not the plain shape described above.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, into slots: Slots = Slots()) {
        guard let base = bytes.baseAddress, bytes.count < Int(Int32.max) else { return nil }
        self.base = base
        self.slots = slots
        slots.startLine()
        let line = slots.line
        self.line = line
        var reader = Reader(base: base, count: bytes.count)
        guard reader.take(UInt8(ascii: "{")),
              Self.readMembers(&reader, into: slots, line: line, nested: false, row: Slots.untyped,
                               after: Slots.lineStart),
              reader.isAtEnd else { return nil }
    }

    /// A view of a line (or an object's members) already read into `slots` as `line`.
    private init(base: UnsafePointer<UInt8>, slots: Slots, line: UInt32) {
        self.base = base
        self.slots = slots
        self.line = line
    }

    /// The same line as `init(_:into:)` reads (`bytes` and `slots` alike), given what
    /// `prefix` read of its first members (`CaptureFlowLinePrefix`, from the same bytes):
    /// their slots are written from it, and the line is read on after them. The prefix
    /// reader takes only members this reader takes alike (a listed type without escapes,
    /// integers as `Reader.integer` reads them), so the slots are the same either way (a
    /// member of the same name further on overwrites its slot in both).
    init?(_ bytes: UnsafeBufferPointer<UInt8>, into slots: Slots, after prefix: CaptureFlowLinePrefix) {
        guard let base = bytes.baseAddress, bytes.count < Int(Int32.max) else { return nil }
        self.base = base
        self.slots = slots
        slots.startLine()
        let line = slots.line
        self.line = line
        slots.pointer[Int(CaptureLineKey.t.rawValue)] = Slot(kind: .integer, line: line, number: prefix.time)
        let (typeSlot, row) = slots.typeSlot(base: base, start: prefix.typeStart, end: prefix.typeEnd, line: line)
        slots.pointer[Int(CaptureLineKey.type.rawValue)] = typeSlot
        slots.pointer[Int(CaptureLineKey.flow.rawValue)] = Slot(kind: .integer, line: line, number: Int64(prefix.flow))
        var reader = Reader(base: base, count: bytes.count)
        reader.index = prefix.end
        if reader.take(UInt8(ascii: "}")) {
            guard reader.isAtEnd else { return nil }
            return
        }
        guard reader.take(UInt8(ascii: ",")),
              Self.readMembers(&reader, into: slots, line: line, nested: false, row: row,
                               after: Int(CaptureLineKey.flow.rawValue)),
              reader.isAtEnd else { return nil }
    }

    /// Reads `"name":value` members separated by commas from `reader`'s place to the
    /// closing brace (the reader is left after it) into `slots` (each member the
    /// assembler reads in its key's slot, marked `line`); false where the line leaves the
    /// plain shape. `nested`: the members of an object, scalars only. `row`: the row of
    /// `Slots.following` for the line's type as far as it is known (a `type` member read
    /// here sets it). `previous`: the key (its `rawValue`) of the member before the
    /// first, or `Slots.lineStart`.
    @inline(__always)
    private static func readMembers(_ reader: inout Reader, into slots: Slots, line: UInt32, nested: Bool,
                                     row: Int, after previous: Int) -> Bool {
        let keyNames = slots.keyNames
        let memberStarts = slots.memberStarts
        var following = slots.followingRow(row)
        let base = reader.base
        var previous = previous
        repeat {
            // The member expected after the previous one, matched as `"name":` at once;
            // otherwise its name is read as a string and looked up. A name with escapes
            // is none of the keys (they are letters and digits). The table's position of
            // a name is its key's `rawValue`, its slot.
            var key = Int(following[previous])
            let matched = key == Int(Slots.noKey) ? 0
                : memberStarts.length(of: key, at: base + reader.index, available: reader.count &- reader.index)
            if matched > 0 {
                reader.index &+= matched
            } else {
                guard let name = reader.rawString(), reader.take(UInt8(ascii: ":")) else { return false }
                key = name.kind == .string
                    ? keyNames.index(of: base + Int(name.start), count: Int(name.end &- name.start)) ?? Int(Slots.noKey)
                    : Int(Slots.noKey)
                following[previous] = UInt8(truncatingIfNeeded: key)
            }
            guard var value = reader.member(nested: nested) else { return false }
            if !nested, value.kind == .object {  // (`member` reads none when `nested`)
                guard readObject(&reader, into: slots.objectSlots, row: slots.rowIndex(of: following), slot: &value) else {
                    return false
                }
            }
            if key != Int(Slots.noKey) {
                value.line = line
                if key == Int(CaptureLineKey.type.rawValue), value.kind == .string {
                    following = slots.noteType(&value, base: base)
                }
                slots.pointer[key] = value
                previous = key
            } else {
                previous = Slots.unlisted
            }
        } while reader.take(UInt8(ascii: ","))
        return reader.take(UInt8(ascii: "}"))
    }

    /// Reads the object at `reader`'s place (`slot` is its start, from `Reader.member`)
    /// into `objectSlots` as their next line, and completes `slot` with its end and that
    /// line's number; false where it is not a non-empty object of scalars. `row`: the
    /// line's row of `Slots.following` (its objects' members are expected by the
    /// line's type too).
    @inline(never)
    private static func readObject(_ reader: inout Reader, into objectSlots: Slots, row: Int, slot: inout Slot) -> Bool {
        objectSlots.startLine()
        guard reader.take(UInt8(ascii: "{")),
              readMembers(&reader, into: objectSlots, line: objectSlots.line, nested: true, row: row, after: Slots.lineStart)
        else { return false }
        slot.end = Int32(truncatingIfNeeded: reader.index)
        slot.number = Int64(objectSlots.line)
        return true
    }

    // MARK: - CaptureLineFields

    @inline(__always)
    private func slot(_ key: CaptureLineKey) -> Slot {
        let slot = slots.pointer[Int(key.rawValue)]
        return slot.line == line ? slot : Slot()
    }

    func value(_ key: CaptureLineKey) -> CaptureJSONValue? {
        let slot = slot(key)
        switch slot.kind {
        case .absent: return nil
        case .string, .escapedString: return string(key).map(CaptureJSONValue.string)
        case .integer: return .integer(slot.number)
        case .bool: return .bool(slot.number != 0)
        // Rare (an `extension` line's value, the agreement check): the parser's tree of
        // the value's own bytes, which the line's tree holds.
        case .pairs, .object: return try? CaptureJSONParser.parse(slot.bytes(in: base))
        }
    }

    func string(_ key: CaptureLineKey) -> String? {
        let slot = slot(key)
        switch slot.kind {
        case .string:
            // Printable ASCII (`Reader.rawString`): a listed string is handed out; another
            // of up to 15 bytes, which a `String` holds itself, is made straight from them
            // (the small-string path: no allocation, no validation past its ASCII test),
            // and a longer one by `String(decoding:)`.
            let bytes = slot.bytes(in: base)
            let start = base + Int(slot.start)
            if let known = slots.knownStrings.string(start, count: bytes.count) { return known }
            guard bytes.count <= Self.smallStringCapacity else { return String(decoding: bytes, as: UTF8.self) }
            return String(unsafeUninitializedCapacity: bytes.count) { target in
                if let target = target.baseAddress {
                    UnsafeMutableRawPointer(target).copyMemory(from: start, byteCount: bytes.count)
                }
                return bytes.count
            }
        case .escapedString:
            let raw = slot.bytes(in: base)
            return String(unsafeUninitializedCapacity: raw.count) { Reader.decode(raw, into: $0.baseAddress.unsafelyUnwrapped) }
        default:
            return nil
        }
    }

    /// The most UTF-8 bytes a `String` holds without an allocation (on 64-bit platforms).
    private static var smallStringCapacity: Int { 15 }

    func int64(_ key: CaptureLineKey) -> Int64? {
        let slot = slot(key)
        return slot.kind == .integer ? slot.number : nil
    }

    func uint64(_ key: CaptureLineKey) -> UInt64? {
        // Integers here are never negative.
        let slot = slot(key)
        return slot.kind == .integer ? UInt64(slot.number) : nil
    }

    func bool(_ key: CaptureLineKey) -> Bool? {
        let slot = slot(key)
        return slot.kind == .bool ? slot.number != 0 : nil
    }

    /// An object of scalars is itself a line of the plain shape, in the slots'
    /// `objectSlots`: valid until the next object of a line read into these slots is.
    /// The line's last object is there already; another is read again from its bytes.
    func object(_ key: CaptureLineKey) -> CaptureFlatLine? {
        let slot = slot(key)
        guard slot.kind == .object else { return nil }
        let objectSlots = slots.objectSlots
        if slot.number == Int64(objectSlots.line) {
            return CaptureFlatLine(base: base, slots: objectSlots, line: objectSlots.line)
        }
        return CaptureFlatLine(slot.bytes(in: base), into: objectSlots)
    }

    func array(_ key: CaptureLineKey) -> [CaptureJSONValue]? {
        slot(key).kind == .pairs ? value(key)?.arrayValue : nil
    }

    /// The header list at `key` (`[["name","value"],...]`); one the slots' reader built
    /// for an earlier line written with the same bytes is handed out again (`CaptureHeaderListMemo`).
    func headers(_ key: CaptureLineKey) -> HTTPHeaders? {
        let slot = slot(key)
        guard slot.kind == .pairs else { return nil }
        let written = slot.bytes(in: base)
        if let known = slots.headerLists.headers(writtenAs: written) { return known }
        let headers = buildHeaders(slot)
        slots.headerLists.remember(headers, writtenAs: written)
        return headers
    }

    private func buildHeaders(_ slot: Slot) -> HTTPHeaders {
        let fields = Int(slot.number >> 32)
        let end = Int(slot.end)
        // Room for the bytes as written (decoding only shortens), and for the eight a
        // word copy may store past the last byte (`Reader.copyString`).
        return HTTPHeaders(unsafeUninitializedFields: fields, bytes: Int(slot.number & 0xFFFF_FFFF) &+ 8) { bytes, ends in
            // Read again: `init` checked the list, `[["name","value"],...]` with only the
            // escapes `Reader.rawString` takes, so each string ends at the next quote that
            // is not escaped, and the next starts 3 bytes (`","`) or 5 (`"],["`) after it.
            var index = Int(slot.start) &+ 3  // after `[["`
            var written = 0
            for field in 0..<fields {
                let nameEnd = Reader.copyString(in: base, from: index, before: end, to: bytes, at: &written)
                ends[field &* 2] = UInt32(truncatingIfNeeded: written)
                let valueEnd = Reader.copyString(in: base, from: nameEnd &+ 3, before: end, to: bytes, at: &written)
                ends[field &* 2 &+ 1] = UInt32(truncatingIfNeeded: written)
                index = valueEnd &+ 5
            }
            return written
        }
    }

    func hasHeaders(_ key: CaptureLineKey) -> Bool { slot(key).kind == .pairs }

    func headers(_ key: CaptureLineKey, mayName name: String) -> Bool? {
        let slot = slot(key)
        guard slot.kind == .pairs else { return nil }
        guard slot.number >> 32 > 0 else { return false }
        // Read again, by quotes and backslashes only, as `headers(_:)` reads it.
        var index = Int(slot.start) &+ 3  // after `[["`
        let end = Int(slot.end)
        for _ in 0..<Int(slot.number >> 32) {
            let (nameEnd, escaped) = Reader.stringEnd(in: base, from: index, before: end)
            if escaped { return true }
            let bytes = UnsafeBufferPointer(start: base + index, count: nameEnd &- index)
            if bytes.count == name.utf8.count,
               zip(bytes, name.utf8).allSatisfy({ $0 == $1 || ($0 | 0x20 == $1 && $1 >= UInt8(ascii: "a") && $1 <= UInt8(ascii: "z")) }) {
                return true
            }
            index = Reader.stringEnd(in: base, from: nameEnd &+ 3, before: end).end &+ 5
        }
        return false
    }

    var eventType: CaptureEventType? {
        let slot = slot(.type)
        switch slot.kind {
        case .string:
            // Found as the member was read (`Slots.typeSlot`).
            return slot.eventType
        case .escapedString:
            return string(.type).flatMap(CaptureEventType.init(rawValue:))
        default:
            return nil
        }
    }

    // MARK: - Reading

    /// A cursor over the line's bytes; every method returns nil or false, without a
    /// reason, where the line leaves the plain shape (the general parser then says why).
    /// (`CaptureFlowLinePrefix` reads a flow line's first members with it too.)
    struct Reader {
        let base: UnsafePointer<UInt8>
        let count: Int
        var index = 0

        init(base: UnsafePointer<UInt8>, count: Int) {
            self.base = base
            self.count = count
        }

        var isAtEnd: Bool { index == count }

        /// Consumes `byte` if it is next.
        @inline(__always)
        mutating func take(_ byte: UInt8) -> Bool {
            guard index < count, base[index] == byte else { return false }
            index &+= 1
            return true
        }

        /// A member's value as its slot: a scalar, or (not `nested`) a pair list or the
        /// start of an object (which the caller reads on, `CaptureFlatLine.readObject`).
        /// Strings and integers, nearly every value, are read here, in the caller's loop;
        /// the rest in `otherMember` (out of line).
        @inline(__always)
        fileprivate mutating func member(nested: Bool) -> Slot? {
            guard index < count else { return nil }
            let byte = base[index]
            if byte == UInt8(ascii: "\"") { return rawString() }
            if byte &- UInt8(ascii: "0") < 10 {
                guard let number = integer() else { return nil }
                return Slot(kind: .integer, number: number)
            }
            return otherMember(nested: nested)
        }

        /// `member` for a value that is neither a string nor an integer.
        @inline(never)
        fileprivate mutating func otherMember(nested: Bool) -> Slot? {
            switch base[index] {
            case UInt8(ascii: "t"):
                return literal("true") ? Slot(kind: .bool, number: 1) : nil
            case UInt8(ascii: "f"):
                return literal("false") ? Slot(kind: .bool, number: 0) : nil
            case UInt8(ascii: "[") where !nested:
                let start = index
                guard let (fields, bytes) = pairs() else { return nil }
                return Slot(kind: .pairs, start: Int32(truncatingIfNeeded: start), end: Int32(truncatingIfNeeded: index),
                            number: Int64(fields) << 32 | Int64(bytes))
            case UInt8(ascii: "{") where !nested:
                // Its start only: the caller reads it on into the slots for its members
                // (`CaptureFlatLine.readObject`).
                return Slot(kind: .object, start: Int32(truncatingIfNeeded: index))
            default:
                return nil
            }
        }

        /// Moves `index` a word at a time (`JSONStringWord`) to the first quote, backslash or
        /// byte outside printable ASCII, or to where fewer than eight bytes are left (the
        /// caller looks at the byte there, or at the last seven one by one).
        @inline(__always)
        mutating func skipPlainStringBytes() {
            while index &+ 8 <= count {
                let word = JSONStringWord.load(base + index)
                let stops = JSONStringWord.bytesNeedingEscape(word) | (word & JSONStringWord.highs)
                if stops != 0 {
                    index &+= stops.trailingZeroBitCount &>> 3
                    return
                }
                index &+= 8
            }
        }

        /// A string (at its opening quote; index after the closing one) as its slot,
        /// `string` or `escapedString`. Only printable
        /// ASCII and the escapes `\" \\ \/ \b \f \n \r \t` are taken. Scanned a word at a
        /// time (`JSONStringWord`) to the next quote, backslash or byte outside that range.
        @inline(__always)
        fileprivate mutating func rawString() -> Slot? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            var escaped = false
            while true {
                skipPlainStringBytes()
                // The byte a word stopped at, or one of the last seven.
                guard index < count else { return nil }
                let byte = base[index]
                if byte == UInt8(ascii: "\"") {
                    index &+= 1
                    return Slot(kind: escaped ? .escapedString : .string, start: Int32(truncatingIfNeeded: start),
                                end: Int32(truncatingIfNeeded: index &- 1))
                }
                if byte == UInt8(ascii: "\\") {
                    guard index &+ 1 < count, CaptureJSONParser.singleCharacterEscape(base[index &+ 1]) != nil else { return nil }
                    escaped = true
                    index &+= 2
                    continue
                }
                guard byte >= 0x20, byte < 0x80 else { return nil }
                index &+= 1
            }
        }

        /// Where a string `rawString` took (from `index`, after its opening quote) ends
        /// (its closing quote, before `end`), and whether it has an escape: only quotes
        /// and backslashes are looked for, a word at a time while eight bytes before
        /// `end` are left (the string was checked when the line was read).
        @inline(__always)
        static func stringEnd(in base: UnsafePointer<UInt8>, from index: Int, before end: Int) -> (end: Int, escaped: Bool) {
            var index = index
            var escaped = false
            while true {
                while index &+ 8 <= end {
                    let stops = JSONStringWord.quotesOrBackslashes(JSONStringWord.load(base + index))
                    if stops != 0 {
                        index &+= stops.trailingZeroBitCount &>> 3
                        break
                    }
                    index &+= 8
                }
                let byte = base[index]
                if byte == UInt8(ascii: "\"") { return (index, escaped) }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    index &+= 2
                } else {
                    index &+= 1
                }
            }
        }

        /// Copies a string `rawString` took (from `index`, after its opening quote),
        /// decoded, to `target + written`, moving `written` past it; returns where its
        /// closing quote is (before `end`). Only quotes and backslashes are looked for,
        /// a word at a time while eight bytes before `end` are left, each word stored
        /// whole (so `target` needs room for 8 bytes past the last one kept) and kept up
        /// to its first stop (the string was checked when the line was read).
        @inline(__always)
        static func copyString(in base: UnsafePointer<UInt8>, from index: Int, before end: Int,
                               to target: UnsafeMutablePointer<UInt8>, at written: inout Int) -> Int {
            var index = index
            while true {
                while index &+ 8 <= end {
                    let word = JSONStringWord.load(base + index)
                    UnsafeMutableRawPointer(target + written).storeBytes(of: word.littleEndian, as: UInt64.self)
                    let stops = JSONStringWord.quotesOrBackslashes(word)
                    if stops != 0 {
                        let kept = stops.trailingZeroBitCount &>> 3
                        index &+= kept
                        written &+= kept
                        break
                    }
                    index &+= 8
                    written &+= 8
                }
                let byte = base[index]
                if byte == UInt8(ascii: "\"") { return index }
                if byte == UInt8(ascii: "\\") {
                    target[written] = CaptureJSONParser.singleCharacterEscape(base[index &+ 1]).unsafelyUnwrapped
                    index &+= 2
                } else {
                    target[written] = byte
                    index &+= 1
                }
                written &+= 1
            }
        }

        /// Writes the decoded bytes of a string `rawString` took (`raw`, between the
        /// quotes) at `target` (room for `raw.count`); returns how many it wrote.
        static func decode(_ raw: UnsafeBufferPointer<UInt8>, into target: UnsafeMutablePointer<UInt8>) -> Int {
            var written = 0
            var position = 0
            while position < raw.count {
                let byte = raw[position]
                if byte == UInt8(ascii: "\\") {
                    target[written] = CaptureJSONParser.singleCharacterEscape(raw[position + 1]).unsafelyUnwrapped
                    position += 2
                } else {
                    target[written] = byte
                    position += 1
                }
                written += 1
            }
            return written
        }

        /// A non-negative integer of at most 18 digits (so it fits `Int64`) without
        /// leading zeros; a fraction or exponent after it fails the caller's next check.
        /// Read eight digits at a time while eight bytes are left (`digitCount`,
        /// `digitsValue`): one of fewer than 8 (an id, a count) from its first word, one
        /// of exactly 16 (a timestamp in microseconds) as two words and the byte after them.
        @inline(__always)
        mutating func integer() -> Int64? {
            let start = index
            if index &+ 8 <= count {
                let high = JSONStringWord.load(base + index)
                let digits = Self.digitCount(high)
                if digits < 8 {
                    // The word holds the byte after the digits, which is not one.
                    guard digits == 1 || (digits > 1 && base[index] != UInt8(ascii: "0")) else { return nil }
                    index &+= digits
                    return Int64(Self.digitsValue(high, count: digits))
                }
                if index &+ 16 < count {
                    let low = JSONStringWord.load(base + (index &+ 8))
                    if Self.digitCount(low) == 8, base[index &+ 16] &- UInt8(ascii: "0") >= 10, base[index] != UInt8(ascii: "0") {
                        index &+= 16
                        return Int64(Self.digitsValue(high, count: 8) &* 100_000_000 &+ Self.digitsValue(low, count: 8))
                    }
                }
            }
            var value: Int64 = 0
            while index &+ 8 <= count {
                let word = JSONStringWord.load(base + index)
                let digits = Self.digitCount(word)
                guard digits > 0 else { break }
                value = value &* Self.powerOfTen(digits) &+ Int64(Self.digitsValue(word, count: digits))
                index &+= digits
                guard digits == 8 else { break }
            }
            while index < count, case let digit = base[index] &- UInt8(ascii: "0"), digit < 10 {
                value = value &* 10 &+ Int64(digit)
                index &+= 1
            }
            let digits = index &- start
            guard digits >= 1, digits <= 18, digits == 1 || base[start] != UInt8(ascii: "0") else { return nil }
            return value
        }

        /// 10 to the power `exponent` (1...8): a table in the code (a global array is a
        /// one-time initialisation check and a bounds check at each use).
        @inline(__always)
        private static func powerOfTen(_ exponent: Int) -> Int64 {
            switch exponent {
            case 1: 10
            case 2: 100
            case 3: 1_000
            case 4: 10_000
            case 5: 100_000
            case 6: 1_000_000
            case 7: 10_000_000
            default: 100_000_000
            }
        }

        /// How many of the eight bytes of `word` (first byte lowest) are ASCII digits
        /// before the first that is not (a byte is a digit when its high nibble is 3 and
        /// its low one plus 6 does not carry).
        @inline(__always)
        static func digitCount(_ word: UInt64) -> Int {
            let notDigits = ((word & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030)
                | (((word & 0x0F0F_0F0F_0F0F_0F0F) &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0)
            return notDigits == 0 ? 8 : notDigits.trailingZeroBitCount &>> 3
        }

        /// The value of the first `count` (1...8) bytes of `word`, all digits: moved to
        /// the top (zeros, leading, below them), then pairs, fours and eights of digits
        /// combined with three multiplications.
        @inline(__always)
        static func digitsValue(_ word: UInt64, count: Int) -> UInt64 {
            var value = (word &- 0x3030_3030_3030_3030) &<< UInt64((8 &- count) &* 8)
            value = value &* 10 &+ (value &>> 8)
            return ((value & 0x0000_00FF_0000_00FF) &* (100 &+ (1_000_000 &<< 32))
                &+ ((value &>> 16) & 0x0000_00FF_0000_00FF) &* (1 &+ (10_000 &<< 32))) &>> 32
        }

        mutating func literal(_ text: StaticString) -> Bool {
            let length = text.utf8CodeUnitCount
            guard count &- index >= length else { return false }
            for offset in 0..<length where base[index &+ offset] != text.utf8Start[offset] { return false }
            index &+= length
            return true
        }

        /// Consumes the `count` (1...7) bytes of `text` (first byte lowest) if they are
        /// next: one masked compare while eight bytes are left, else byte by byte.
        @inline(__always)
        mutating func takeShort(_ text: UInt64, count length: Int) -> Bool {
            if index &+ 8 <= count {
                guard JSONStringWord.load(base + index) & ((1 &<< UInt64(length &* 8)) &- 1) == text else { return false }
            } else {
                guard count &- index >= length else { return false }
                for offset in 0..<length where base[index &+ offset] != UInt8(truncatingIfNeeded: text &>> UInt64(offset &* 8)) {
                    return false
                }
            }
            index &+= length
            return true
        }

        /// `[]` or `[[string,string],...]` (strings as `rawString` takes them); returns
        /// its fields and the bytes of their names and values as written.
        ///
        /// One pass over the list, a word at a time to the next quote, backslash or byte
        /// outside printable ASCII: at a closing quote the few bytes up to the next
        /// string's first are checked (`","` after a name; `"],["` or the list's end
        /// `"]]` after a value).
        mutating func pairs() -> (fields: Int, bytes: Int)? {
            let start = index
            guard take(UInt8(ascii: "[")) else { return nil }
            if take(UInt8(ascii: "]")) { return (0, 0) }
            guard take(UInt8(ascii: "[")), take(UInt8(ascii: "\"")) else { return nil }
            var fields = 0
            var inValue = false
            while true {
                skipPlainStringBytes()
                // The byte a word stopped at, or one of the last seven.
                guard index < count else { return nil }
                let byte = base[index]
                if byte == UInt8(ascii: "\"") {
                    if !inValue {
                        guard takeShort(0x22_2C_22, count: 3) else { return nil }  // `","`
                        inValue = true
                    } else {
                        fields &+= 1
                        if takeShort(0x22_5B_2C_5D_22, count: 5) {  // `"],["`
                            inValue = false
                        } else if takeShort(0x5D_5D_22, count: 3) {  // `"]]`
                            // Per field `["`, `","` and `"]`, a comma between fields, and
                            // the outer brackets.
                            return (fields, index &- start &- 1 &- 8 &* fields)
                        } else {
                            return nil
                        }
                    }
                } else if byte == UInt8(ascii: "\\") {
                    guard index &+ 1 < count, CaptureJSONParser.singleCharacterEscape(base[index &+ 1]) != nil else { return nil }
                    index &+= 2
                } else {
                    guard byte >= 0x20, byte < 0x80 else { return nil }
                    index &+= 1
                }
            }
        }
    }
}

