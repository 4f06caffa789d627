import TaplineWire

/// Builds JSON text by hand into one growing byte buffer: the capture encoder for
/// `events.jsonl` and `session.json` (no JSONEncoder on the hot path).
///
/// Usage: `beginObject()`, then `key("name")` followed by exactly one value
/// (`string`, `integer`, `bool`, `null`, or a nested object/array), `endObject()`.
/// Array elements are written after `element()`. Commas are inserted
/// automatically: the only state is whether the current container is still empty,
/// which is enough because a nested container always follows a key or `element()`.
///
/// Strings are escaped per RFC 8259: `"` and `\` are backslash-escaped, control
/// characters below 0x20 become `\n`, `\r`, `\t` or `\u00XX`; all other UTF-8
/// passes through unchanged (a string with nothing to escape is one copy, checked
/// a word at a time as it goes).
///
/// Thread ownership: single owner (an event loop's capture encoder, or the writer
/// thread). A builder is never copied while in use (copies would write through
/// the same cursor into shared storage); `takeStorage` hands the bytes on
/// without copying them.
///
/// Invariant: `base`, `capacity` are `storage`'s; bytes `0..<count` are written.
/// `storage.count` is brought up to date only when the storage is read or handed
/// on, so appends touch no class reference (no retain/release per member).
struct JSONLineBuilder {
    /// Owns the allocation; its `count` lags `count` (see the invariant).
    private var storage: CaptureByteStorage
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0
    private var containerIsEmpty = true
    /// The last 16-digit time written and its digits as two words: the lines of one
    /// socket callback share a clock reading, so most times repeat the one before.
    /// Starts as 10^15 µs with its digits, "1000000000000000" (little-endian words),
    /// so every cached value is a real time's digits.
    private var lastTime: Int64 = 1_000_000_000_000_000
    private var lastTimeDigits: (UInt64, UInt64) = (0x3030_3030_3030_3031, 0x3030_3030_3030_3030)
    /// The whole seconds (`time / 10^6`) of the last 16-digit time written and their
    /// ten digits (eight and two bytes): the times of one flow fall in a few seconds,
    /// so a new time mostly needs only its six µs digits. Starts as 10^9 s, "1000000000".
    private var lastSecond: Int64 = 1_000_000_000
    private var lastSecondDigits: (UInt64, UInt16) = (0x3030_3030_3030_3031, 0x3030)
    /// The last flow id a line was started with (`beginFlowEvent`) and its digits
    /// (up to 16, zero bytes after them, little-endian words): a flow's lines mostly
    /// come one after another, so its id is mostly written again. Starts as 0, "0".
    private var lastFlow: UInt64 = 0
    private var lastFlowDigits: (UInt64, UInt64) = (0x30, 0)
    private var lastFlowDigitCount = 1
    /// The last header lists written and their JSON (`headerList` copies it for a list
    /// written again).
    private var headerLists = CaptureEncodedHeaderListMemo()

    init(capacity: Int = 64 << 10) {
        self.init(storage: CaptureByteStorage(capacity: capacity))
    }

    private init(storage: CaptureByteStorage) {
        self.storage = storage
        base = storage.base
        capacity = storage.capacity
        count = storage.count
    }

    /// A copy of the bytes written so far.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    var isEmpty: Bool { count == 0 }

    /// Calls `body` with the bytes written so far (valid only inside `body`).
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    mutating func removeAll() {
        count = 0
        containerIsEmpty = true
    }

    /// Returns the storage holding the bytes written so far and continues into
    /// `replacement` (which must be empty), without copying. The header lists written
    /// last are kept (`headerLists`): the next batch's flows repeat them as much.
    mutating func takeStorage(replacement: CaptureByteStorage) -> CaptureByteStorage {
        precondition(replacement.isEmpty, "a replacement storage must be empty")
        let taken = storage
        taken.count = count
        let lists = headerLists
        self = JSONLineBuilder(storage: replacement)
        headerLists = lists
        return taken
    }

    /// Makes room for `extra` more bytes (the storage doubles when needed).
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(extra) }
    }

    @inline(never)
    private mutating func grow(_ extra: Int) {
        storage.count = count
        storage.reserve(extra)
        base = storage.base
        capacity = storage.capacity
    }

    /// The write position (room must have been reserved).
    @inline(__always)
    private var end: UnsafeMutablePointer<UInt8> { base + count }

    /// Moves the write position to `position` (after writing up to it).
    @inline(__always)
    private mutating func advance(to position: UnsafeMutablePointer<UInt8>) {
        count = position - base
    }

    mutating func beginObject() {
        byte(UInt8(ascii: "{"))
        containerIsEmpty = true
    }

    mutating func endObject() {
        byte(UInt8(ascii: "}"))
        containerIsEmpty = false
    }

    mutating func beginArray() {
        byte(UInt8(ascii: "["))
        containerIsEmpty = true
    }

    mutating func endArray() {
        byte(UInt8(ascii: "]"))
        containerIsEmpty = false
    }

    mutating func newline() {
        byte(UInt8(ascii: "\n"))
        containerIsEmpty = true
    }

    /// Takes back the `}` and newline that end the buffer (a complete line), so
    /// members can be added to that line's object; end it again with `endEvent`.
    mutating func reopenLastLine() {
        precondition(count >= 2 && base[count - 2] == UInt8(ascii: "}") && base[count - 1] == UInt8(ascii: "\n"),
                     "only a complete last line can be reopened")
        count -= 2
        containerIsEmpty = false
    }

    /// Starts an array element (writes the separating comma if needed).
    mutating func element() {
        if !containerIsEmpty { byte(UInt8(ascii: ",")) }
        containerIsEmpty = false
    }

    /// Writes `"name":` (keys are ASCII identifiers chosen by us: no escaping needed).
    @inline(__always)
    mutating func key(_ name: StaticString) {
        reserve(name.utf8CodeUnitCount + 4)
        advance(to: writeKey(name, at: end))
    }

    /// Writes a key that is not a compile-time constant (escaped like any string).
    mutating func key(dynamic name: String) {
        if !containerIsEmpty { byte(UInt8(ascii: ",")) }
        containerIsEmpty = false
        appendQuoted(name)
        byte(UInt8(ascii: ":"))
    }

    mutating func string(_ value: String) {
        appendQuoted(value)
        containerIsEmpty = false
    }

    /// Writes a constant string chosen by us (ASCII, nothing to escape).
    mutating func string(constant value: StaticString) {
        reserve(value.utf8CodeUnitCount + 2)
        advance(to: Self.writeConstant(value, at: end))
        containerIsEmpty = false
    }

    /// Writes already-encoded JSON bytes (a value or a run of members) as they are.
    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        end.update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        count += bytes.count
    }

    mutating func integer(_ value: Int64) {
        reserve(21)
        advance(to: Self.writeSigned(value, at: end))
        containerIsEmpty = false
    }

    mutating func integer(_ value: UInt64) {
        reserve(20)
        advance(to: Self.writeDigits(value, at: end))
        containerIsEmpty = false
    }

    mutating func integer(_ value: Int) { integer(Int64(value)) }

    mutating func bool(_ value: Bool) {
        literal(value ? "true" : "false")
    }

    mutating func null() {
        literal("null")
    }

    private mutating func literal(_ text: StaticString) {
        reserve(text.utf8CodeUnitCount)
        end.copyShort(from: text.utf8Start, count: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
        containerIsEmpty = false
    }

    @inline(__always)
    private mutating func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    /// The two-digit pairs "00" to "99", for writing decimal numbers two digits at a time.
    private static let digitPairs: StaticString = """
        0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
        5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899
        """

    private mutating func appendQuoted(_ value: String) {
        value.withUTF8Bytes { utf8 in
            reserve(utf8.count * 6 + 2)  // worst case: every byte becomes \u00XX
            advance(to: Self.writeQuoted(utf8, at: end))
        }
    }


    // MARK: Members in one step
    //
    // A line is mostly `"key":value` pairs; writing each with one capacity check and
    // no intermediate calls is most of the encoder's speed (see docs/performance.md).

    /// `,"name":` (comma unless first) at `at`; returns the position after it.
    @inline(__always)
    private mutating func writeKey(_ name: StaticString,
                                   at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        var at = start
        if !containerIsEmpty {
            at.pointee = UInt8(ascii: ",")
            at += 1
        }
        containerIsEmpty = false
        at.pointee = UInt8(ascii: "\"")
        (at + 1).copyShort(from: name.utf8Start, count: name.utf8CodeUnitCount)
        at += 1 + name.utf8CodeUnitCount
        at.pointee = UInt8(ascii: "\"")
        (at + 1).pointee = UInt8(ascii: ":")
        return at + 2
    }

    /// `"name":value` for an integer.
    @inline(__always)
    mutating func member(_ name: StaticString, _ value: UInt64) {
        reserve(name.utf8CodeUnitCount + 24)
        advance(to: Self.writeDigits(value, at: writeKey(name, at: end)))
    }

    @inline(__always)
    mutating func member(_ name: StaticString, _ value: Int64) {
        reserve(name.utf8CodeUnitCount + 25)
        advance(to: Self.writeSigned(value, at: writeKey(name, at: end)))
    }

    @inline(__always)
    mutating func member(_ name: StaticString, _ value: Int) { member(name, Int64(value)) }

    /// `"name":<µs>` for a moment in time (see `writeTime`).
    @inline(__always)
    mutating func member(_ name: StaticString, time: Int64) {
        reserve(name.utf8CodeUnitCount + 25)
        advance(to: writeTime(time, at: writeKey(name, at: end)))
    }

    /// Starts an event line: `{"t":<µs>,"type":"<type>"`, with one room check (nine
    /// of these per HTTP/2 flow as three separate writes were a sixth of the
    /// capture's cost).
    @inline(__always)
    mutating func beginEvent(_ type: StaticString, time: Int64) {
        reserve(type.utf8CodeUnitCount + 40)
        advance(to: writeEventStart(type, time: time, at: end))
        containerIsEmpty = false
    }

    /// Starts a flow's event line: `{"t":<µs>,"type":"<type>","flow":<flow>`, what
    /// `beginEvent` and `member("flow", flow)` write, with one room check and one call
    /// (most lines of a flow start so).
    @inline(__always)
    mutating func beginFlowEvent(_ type: StaticString, time: Int64, flow: UInt64) {
        reserve(type.utf8CodeUnitCount + 40 + Self.flowMemberStart.utf8CodeUnitCount + 20)
        let at = writeEventStart(type, time: time, at: end)
        at.copyShort(from: Self.flowMemberStart.utf8Start, count: Self.flowMemberStart.utf8CodeUnitCount)
        advance(to: writeFlowID(flow, at: at + Self.flowMemberStart.utf8CodeUnitCount))
        containerIsEmpty = false
    }

    /// A flow id's digits at `start` (room for 20 reserved); returns the end. The id of
    /// the line before is two word stores of its kept digits (the bytes stored past
    /// the digits are inside the reserved room and written over next).
    @inline(__always)
    private mutating func writeFlowID(_ flow: UInt64, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let raw = UnsafeMutableRawPointer(start)
        if flow == lastFlow {
            raw.storeBytes(of: lastFlowDigits.0, as: UInt64.self)
            raw.storeBytes(of: lastFlowDigits.1, toByteOffset: 8, as: UInt64.self)
            return start + lastFlowDigitCount
        }
        raw.storeBytes(of: 0, as: UInt64.self)  // so the words kept below hold only digits and zeros
        raw.storeBytes(of: 0, toByteOffset: 8, as: UInt64.self)
        let after = Self.writeDigits(flow, at: start)
        let digitCount = after - start
        guard digitCount <= 16 else { return after }
        lastFlow = flow
        lastFlowDigits = (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        lastFlowDigitCount = digitCount
        return after
    }

    /// `{"t":<µs>,"type":"<type>"` at `start` (room for the type's length + 40 reserved); returns the end.
    @inline(__always)
    private mutating func writeEventStart(_ type: StaticString, time: Int64,
                                          at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        start.copyShort(from: Self.timeMemberStart.utf8Start, count: Self.timeMemberStart.utf8CodeUnitCount)
        let at = writeTime(time, at: start + Self.timeMemberStart.utf8CodeUnitCount)
        at.copyShort(from: Self.typeMemberStart.utf8Start, count: Self.typeMemberStart.utf8CodeUnitCount)
        return Self.writeConstant(type, at: at + Self.typeMemberStart.utf8CodeUnitCount)
    }

    private static let timeMemberStart: StaticString = "{\"t\":"
    private static let typeMemberStart: StaticString = ",\"type\":"
    private static let flowMemberStart: StaticString = ",\"flow\":"

    /// `"name":"value"` for any string (escaped).
    mutating func member(_ name: StaticString, _ value: String) {
        value.withUTF8Bytes { utf8 in
            reserve(name.utf8CodeUnitCount &+ 6 &+ utf8.count &* 6)
            advance(to: Self.writeQuoted(utf8, at: writeKey(name, at: end)))
        }
    }

    /// `"name":"value"` for a constant we chose (ASCII, nothing to escape).
    @inline(__always)
    mutating func member(_ name: StaticString, constant value: StaticString) {
        reserve(name.utf8CodeUnitCount + value.utf8CodeUnitCount + 6)
        advance(to: Self.writeConstant(value, at: writeKey(name, at: end)))
    }

    @inline(__always)
    mutating func member(_ name: StaticString, _ value: Bool) {
        reserve(name.utf8CodeUnitCount + 9)
        let at = writeKey(name, at: end)
        let text: StaticString = value ? "true" : "false"
        at.copyShort(from: text.utf8Start, count: text.utf8CodeUnitCount)
        advance(to: at + text.utf8CodeUnitCount)
    }

    /// Ends an event line: `}` and a newline, with one room check.
    @inline(__always)
    mutating func endEvent() {
        reserve(2)
        UnsafeMutableRawPointer(end).storeBytes(of: UInt16(littleEndian: 0x0A7D), as: UInt16.self)  // "}\n"
        count += 2
        containerIsEmpty = true
    }

    // MARK: Fixed line parts
    //
    // The members every line of a kind has, in a fixed order: their names and the
    // punctuation between them are written as constant runs between the values, with
    // one room check for all of them.

    /// `text` (ASCII we chose, written as it is) at `start`; returns the end.
    @inline(__always)
    private static func writeRun(_ text: StaticString, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        start.copyShort(from: text.utf8Start, count: text.utf8CodeUnitCount)
        return start + text.utf8CodeUnitCount
    }

    /// `"bodyBytes":<n>,"capturedBytes":<n>,"truncated":<bool>` (after a comma unless
    /// first): what `requestEnd` and `responseEnd` lines end with.
    mutating func messageEndCounts(bodyBytes: UInt64, capturedBytes: UInt64, truncated: Bool) {
        let capturedKey: StaticString = ",\"capturedBytes\":"
        let truncatedMember: StaticString = truncated ? ",\"truncated\":true" : ",\"truncated\":false"
        reserve(14 + 20 + capturedKey.utf8CodeUnitCount + 20 + 18)
        var at = Self.writeDigits(bodyBytes, at: writeKey("bodyBytes", at: end))
        at = Self.writeDigits(capturedBytes, at: Self.writeRun(capturedKey, at: at))
        advance(to: Self.writeRun(truncatedMember, at: at))
    }

    /// `"bytesFromClient":<n>,"bytesFromServer":<n>` (after a comma unless first): a
    /// `flowEnded` line's byte counts.
    mutating func flowByteCounts(fromClient: UInt64, fromServer: UInt64) {
        let fromServerKey: StaticString = ",\"bytesFromServer\":"
        reserve(20 + 20 + fromServerKey.utf8CodeUnitCount + 20)
        let at = Self.writeDigits(fromClient, at: writeKey("bytesFromClient", at: end))
        advance(to: Self.writeDigits(fromServer, at: Self.writeRun(fromServerKey, at: at)))
    }

    /// A whole `body` line, newline included: what `beginFlowEvent("body", …)`, the
    /// members `dir` (`request` or `response`), `seg`, `off`, `len` and `endEvent()` write.
    mutating func bodyLine(time: Int64, flow: UInt64, isRequest: Bool, segment: Int, offset: UInt64, length: UInt64) {
        let direction: StaticString = isRequest ? ",\"dir\":\"request\",\"seg\":" : ",\"dir\":\"response\",\"seg\":"
        let offsetKey: StaticString = ",\"off\":", lengthKey: StaticString = ",\"len\":"
        // The line start as `beginFlowEvent` reserves it, then runs, numbers (21 each at most) and "}\n".
        reserve(4 + 40 + Self.flowMemberStart.utf8CodeUnitCount + 20 + 24 + 21 + 7 + 20 + 7 + 20 + 2)
        var at = writeEventStart("body", time: time, at: end)
        at = writeFlowID(flow, at: Self.writeRun(Self.flowMemberStart, at: at))
        at = Self.writeSigned(Int64(segment), at: Self.writeRun(direction, at: at))
        at = Self.writeDigits(offset, at: Self.writeRun(offsetKey, at: at))
        at = Self.writeDigits(length, at: Self.writeRun(lengthKey, at: at))
        UnsafeMutableRawPointer(at).storeBytes(of: UInt16(littleEndian: 0x0A7D), as: UInt16.self)  // "}\n"
        advance(to: at + 2)
        containerIsEmpty = true
    }

    /// `[["name","value"],...]`: a header list from its fields' bytes as received, in
    /// wire order. Text that is not UTF-8 is written with U+FFFD for each invalid
    /// sequence (as `String(decoding:)` does), so the line stays valid JSON.
    /// One room check for the whole list (at most six bytes out per byte in, seven
    /// of punctuation per field), and the fields written from a local position.
    ///
    /// The names and values lie back to back in `fields.bytes`, so the list is
    /// checked as one run, a word at a time, for the next byte that needs escaping
    /// or may not be UTF-8 (`firstSpecialByte`): every name and value before it is
    /// copied as it is, without a check of its own; the one holding it is written
    /// by `writeCheckedField`, and the check goes on after it.
    ///
    /// A list the same as one of the last few written (`CaptureEncodedHeaderListMemo`) is
    /// written by copying the JSON written for it then.
    mutating func headerList(_ fields: HTTPHeaderFieldBytes) {
        if let known = headerLists.index(of: fields) {
            let json = headerLists.encoded(known)
            json.withUnsafeBytes { raw($0) }
            containerIsEmpty = false
            return
        }
        let listStart = count
        writeHeaderList(fields)
        headerLists.remember(fields, encodedAs: UnsafeBufferPointer(start: base + listStart, count: count - listStart))
    }

    private mutating func writeHeaderList(_ fields: HTTPHeaderFieldBytes) {
        let fieldCount = fields.count
        let all = fields.bytes
        reserve(all.count &* 6 &+ fieldCount &* 7 &+ 2)
        var at = end
        at.pointee = UInt8(ascii: "[")
        at += 1
        // With no bytes at all (every name and value empty) there is nothing to check.
        let source = all.baseAddress ?? UnsafePointer(at)
        let total = all.count
        var special = Self.firstSpecialByte(source, count: total, from: 0)
        var position = 0  // where the next name or value starts in `all`
        for index in 0..<fieldCount {
            if index != 0 {
                at.pointee = UInt8(ascii: ",")
                at += 1
            }
            at.pointee = UInt8(ascii: "[")
            at = Self.writeField(fields.name(index), from: source, count: total, position: &position,
                                 special: &special, at: at + 1)
            at.pointee = UInt8(ascii: ",")
            at = Self.writeField(fields.value(index), from: source, count: total, position: &position,
                                 special: &special, at: at + 1)
            at.pointee = UInt8(ascii: "]")
            at += 1
        }
        at.pointee = UInt8(ascii: "]")
        advance(to: at + 1)
        containerIsEmpty = false
    }

    /// One name or value of a header list (`piece`, at `position` of the list's
    /// `count` bytes at `source`), quoted at `start`; returns the end and moves
    /// `position` past it. Copied as it is when it ends before `special` (the first
    /// byte that may need more, see `firstSpecialByte`); else see `writeCheckedField`.
    @inline(__always)
    private static func writeField(_ piece: UnsafeBufferPointer<UInt8>, from source: UnsafePointer<UInt8>, count: Int,
                                   position: inout Int, special: inout Int,
                                   at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let length = piece.count
        let pieceEnd = position &+ length
        position = pieceEnd
        guard pieceEnd <= special else {
            return writeCheckedField(piece, from: source, count: count, after: pieceEnd, special: &special, at: start)
        }
        start.pointee = UInt8(ascii: "\"")
        (start + 1).copyShort(from: source + (pieceEnd &- length), count: length)
        (start + 1 + length).pointee = UInt8(ascii: "\"")
        return start + length + 2
    }

    /// The name or value holding the byte at `special`, escaped and checked as UTF-8
    /// (`writeValidated`); then `special` is found again from `pieceEnd`, where it ends
    /// in the `count` bytes at `source`.
    @inline(never)
    private static func writeCheckedField(_ piece: UnsafeBufferPointer<UInt8>, from source: UnsafePointer<UInt8>,
                                          count: Int, after pieceEnd: Int, special: inout Int,
                                          at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        special = firstSpecialByte(source, count: count, from: pieceEnd)
        start.pointee = UInt8(ascii: "\"")
        return writeValidated(piece, at: start)  // not empty: it holds the byte at `special`
    }

    /// The index of the first byte at or after `start` of the `count` at `source`
    /// that needs escaping (below 0x20, `"`, `\\`) or is 0x80 or more; `count` when
    /// there is none. Never later than the first such byte; when fewer than eight
    /// bytes are left after `start` it may be earlier, at a byte that needs nothing
    /// (a borrow from a byte before `start`), which only sends that text the slow
    /// way. Reads only `source[0..<count]`.
    @inline(__always)
    private static func firstSpecialByte(_ source: UnsafePointer<UInt8>, count: Int, from start: Int) -> Int {
        @inline(__always) func special(_ word: UInt64) -> UInt64 {
            JSONStringWord.bytesNeedingEscape(word) | (word & JSONStringWord.highs)
        }
        var index = start
        while index &+ 16 <= count {  // two words a turn: one branch for both
            let first = special(JSONStringWord.load(source + index))
            let second = special(JSONStringWord.load(source + index + 8))
            if first | second != 0 {
                return index &+ (first != 0 ? first.trailingZeroBitCount : 64 &+ second.trailingZeroBitCount) &>> 3
            }
            index &+= 16
        }
        if index &+ 8 <= count {
            let found = special(JSONStringWord.load(source + index))
            if found != 0 { return index &+ found.trailingZeroBitCount &>> 3 }
            index &+= 8
        }
        guard index < count else { return count }
        if count >= 8 {
            // The last eight bytes, overlapping what was checked: the bytes before `index` are ignored.
            let last = count &- 8
            let found = special(JSONStringWord.load(source + last)) & (~0 &<< UInt64((index &- last) &* 8))
            return found == 0 ? count : last &+ found.trailingZeroBitCount &>> 3
        }
        let found = special(shortWord(source + index, count: count &- index))  // fewer than eight bytes in all
        return found == 0 ? count : index &+ found.trailingZeroBitCount &>> 3
    }

    /// `"text"` for ASCII text we chose (nothing to escape) at `at` (room reserved); returns the end.
    @inline(__always)
    private static func writeConstant(_ text: StaticString,
                                      at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let length = text.utf8CodeUnitCount
        start.pointee = UInt8(ascii: "\"")
        (start + 1).copyShort(from: text.utf8Start, count: length)
        (start + 1 + length).pointee = UInt8(ascii: "\"")
        return start + length + 2
    }

    /// A time in µs since 1970 in decimal (room for 21 reserved); returns the end.
    /// Every time from 2001 until 2286 has 16 digits: a repeat of the last one written
    /// is two word stores instead of eight divisions, and one in the same second as
    /// the last reuses its ten digits and writes the six µs digits.
    @inline(__always)
    private mutating func writeTime(_ time: Int64, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let raw = UnsafeMutableRawPointer(start)
        if time == lastTime {
            raw.storeBytes(of: lastTimeDigits.0, as: UInt64.self)
            raw.storeBytes(of: lastTimeDigits.1, toByteOffset: 8, as: UInt64.self)
            return start + 16
        }
        let second = time / 1_000_000
        if second == lastSecond {  // a 16-digit time: `lastSecond` is only ever one's
            raw.storeBytes(of: lastSecondDigits.0, as: UInt64.self)
            raw.storeBytes(of: lastSecondDigits.1, toByteOffset: 8, as: UInt16.self)
            Self.writeSixDigits(UInt64(truncatingIfNeeded: time &- second &* 1_000_000), at: start + 10)
        } else {
            let after = Self.writeSigned(time, at: start)
            guard after - start == 16 && time > 0 else { return after }
            lastSecond = second
            lastSecondDigits = (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        }
        lastTime = time
        lastTimeDigits = (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        return start + 16
    }

    /// `value` (below 10^6) as exactly six digits, zero-padded, at `at`.
    @inline(__always)
    private static func writeSixDigits(_ value: UInt64, at: UnsafeMutablePointer<UInt8>) {
        let pairs = UnsafeRawPointer(digitPairs.utf8Start)
        let high = value / 10_000, low = value % 10_000
        let raw = UnsafeMutableRawPointer(at)
        raw.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(high) &* 2, as: UInt16.self), as: UInt16.self)
        raw.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(low / 100) &* 2, as: UInt16.self),
                       toByteOffset: 2, as: UInt16.self)
        raw.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(low % 100) &* 2, as: UInt16.self),
                       toByteOffset: 4, as: UInt16.self)
    }

    /// `value` in decimal, with a minus sign when negative (room for 21 reserved); returns the end.
    @inline(__always)
    private static func writeSigned(_ value: Int64, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        guard value < 0 else { return writeDigits(UInt64(value), at: start) }
        start.pointee = UInt8(ascii: "-")
        return writeDigits(value == Int64.min ? UInt64(Int64.max) + 1 : UInt64(-value), at: start + 1)
    }

    /// Decimal digits of `value` at `at` (room for 20 reserved); returns the end.
    /// Two digits at a time from the back into a stack buffer (a 16-digit timestamp
    /// is 8 divisions by the constant 100, each compiled to a multiply), then copied.
    @inline(__always)
    private static func writeDigits(_ value: UInt64, at: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        if value < 10 {  // counts of 0, flags, small ids: a third of a flow's integers
            at.pointee = 0x30 &+ UInt8(truncatingIfNeeded: value)
            return at + 1
        }
        if value >= 1_000_000_000_000_000 && value < 10_000_000_000_000_000 {
            // 16 digits: every timestamp (µs since 1970, until 2286). Two independent
            // halves of four digit pairs each instead of eight dependent divisions.
            writeEightDigits(value / 100_000_000, at: at)
            writeEightDigits(value % 100_000_000, at: at + 8)
            return at + 16
        }
        if value < 100_000_000 {
            // Ids, counts, offsets and lengths: written in place from the back, the
            // length found by comparisons (no stack buffer to copy out of).
            let length = value < 10_000
                ? (value < 100 ? 2 : value < 1_000 ? 3 : 4)
                : (value < 100_000 ? 5 : value < 1_000_000 ? 6 : value < 10_000_000 ? 7 : 8)
            let pairs = UnsafeRawPointer(digitPairs.utf8Start)
            let raw = UnsafeMutableRawPointer(at)
            var end = length
            var rest = value
            while rest >= 100 {
                end &-= 2
                raw.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(rest % 100) &* 2, as: UInt16.self),
                               toByteOffset: end, as: UInt16.self)
                rest /= 100
            }
            if rest >= 10 {
                raw.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(rest) &* 2, as: UInt16.self), as: UInt16.self)
            } else {
                at.pointee = 0x30 &+ UInt8(truncatingIfNeeded: rest)
            }
            return at + length
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes >= 20 digits
        return withUnsafeMutableBytes(of: &digits) { buffer in
            let end = buffer.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self) + buffer.count
            var first = end
            var rest = value
            let pairs = digitPairs.utf8Start
            while rest >= 100 {
                let pair = Int(rest % 100) &* 2
                rest /= 100
                first -= 2
                first[0] = pairs[pair]
                first[1] = pairs[pair + 1]
            }
            if rest >= 10 {
                let pair = Int(rest) &* 2
                first -= 2
                first[0] = pairs[pair]
                first[1] = pairs[pair + 1]
            } else {
                first -= 1
                first[0] = 0x30 &+ UInt8(truncatingIfNeeded: rest)
            }
            at.copyShort(from: first, count: end - first)
            return at + (end - first)
        }
    }

    /// `value` (below 10^8) as exactly eight digits, zero-padded, at `at`.
    @inline(__always)
    private static func writeEightDigits(_ value: UInt64, at: UnsafeMutablePointer<UInt8>) {
        let pairs = UnsafeRawPointer(digitPairs.utf8Start)
        let high = value / 10_000, low = value % 10_000
        let raw = UnsafeMutableRawPointer(at)
        raw.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(high / 100) &* 2, as: UInt16.self), as: UInt16.self)
        raw.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(high % 100) &* 2, as: UInt16.self),
                       toByteOffset: 2, as: UInt16.self)
        raw.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(low / 100) &* 2, as: UInt16.self),
                       toByteOffset: 4, as: UInt16.self)
        raw.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(low % 100) &* 2, as: UInt16.self),
                       toByteOffset: 6, as: UInt16.self)
    }

    /// `"…"` with `utf8` escaped, at `start` (room for `utf8.count * 6 + 2` reserved);
    /// returns the end. Text with nothing to escape (nearly all of it) is checked and
    /// copied in the same pass, a word at a time.
    ///
    /// `checkingUTF8` is for bytes that may not be UTF-8 (received header fields):
    /// the word-wise check then also stops at any byte of 0x80 or more, and only then
    /// is the text validated (and repaired when invalid; U+FFFD is 3 bytes, within
    /// the 6 per byte reserved).
    @inline(__always)
    private static func writeQuoted(_ utf8: UnsafeBufferPointer<UInt8>, at start: UnsafeMutablePointer<UInt8>,
                                    checkingUTF8: Bool = false) -> UnsafeMutablePointer<UInt8> {
        start.pointee = UInt8(ascii: "\"")
        let count = utf8.count
        guard let source = utf8.baseAddress, count > 0 else {
            start[1] = UInt8(ascii: "\"")
            return start + 2
        }
        guard copyIfPlain(source, count, to: start + 1, orNonASCII: checkingUTF8) else {
            // Whatever was copied is overwritten from the opening quote on.
            return checkingUTF8 ? writeValidated(utf8, at: start) : writeEscaped(source, count, at: start + 1)
        }
        start[count + 1] = UInt8(ascii: "\"")
        return start + count + 2
    }

    /// Copies the `count` (> 0) bytes at `source` to `target` a word at a time, checking
    /// each word as it passes (one pass, no `memcpy` call); returns false as soon as
    /// one needs escaping (a byte below 0x20, `"` or `\\`; with `orNonASCII` also one
    /// of 0x80 or more), leaving a partial copy for the caller to overwrite.
    /// Under eight bytes the check is on one word padded with spaces. The last word
    /// is loaded again from `count - 8` (overlapping), so nothing is read or written
    /// outside the two ranges.
    @inline(__always)
    private static func copyIfPlain(_ source: UnsafePointer<UInt8>, _ count: Int, to target: UnsafeMutablePointer<UInt8>,
                                    orNonASCII: Bool) -> Bool {
        @inline(__always) func flagged(_ word: UInt64) -> Bool {
            JSONStringWord.bytesNeedingEscape(word) != 0 || (orNonASCII && word & JSONStringWord.highs != 0)
        }
        guard count >= 8 else {
            guard !flagged(shortWord(source, count: count)) else { return false }
            target.copyShort(from: source, count: count)
            return true
        }
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
        var index = 0
        while index &+ 8 <= count {
            let word = from.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            guard !flagged(word) else { return false }
            to.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
            index &+= 8
        }
        if index < count {
            let word = from.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            guard !flagged(word) else { return false }
            to.storeBytes(of: word, toByteOffset: count &- 8, as: UInt64.self)
        }
        return true
    }

    /// The `count` (1 ..< 8) bytes at `source` as one word, the first byte lowest and
    /// the rest spaces (which need no escape), so a short text is checked like a full
    /// word; read with at most two loads, without a buffer on the stack.
    @inline(__always)
    private static func shortWord(_ source: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        let spaces: UInt64 = 0x2020_2020_2020_2020 &<< UInt64(count &* 8)
        if count >= 4 {  // two overlapping four-byte loads: the overlap holds the same bytes
            let raw = UnsafeRawPointer(source)
            let head = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let tail = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)))
            return head | tail &<< UInt64((count &- 4) &* 8) | spaces
        }
        let middle = count &>> 1
        return UInt64(source[0]) | UInt64(source[middle]) &<< UInt64(middle &* 8)
            | UInt64(source[count &- 1]) &<< UInt64((count &- 1) &* 8) | spaces
    }

    /// `bytes` (the opening quote already at `start`) escaped, after checking that they
    /// are UTF-8 (repaired when not). Also the path for ASCII text that needs escapes
    /// (an `ETag`'s quotes: one header of most responses), which skips validation:
    /// ASCII is UTF-8.
    @inline(never)
    private static func writeValidated(_ bytes: UnsafeBufferPointer<UInt8>,
                                       at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let source = bytes.baseAddress.unsafelyUnwrapped
        if bytes.isASCII { return writeEscaped(source, bytes.count, at: start + 1) }
        var validator = UTF8Validator()
        if validator.validate(bytes), validator.isComplete {
            return writeEscaped(bytes.baseAddress.unsafelyUnwrapped, bytes.count, at: start + 1)
        }
        return String(decoding: bytes, as: UTF8.self).withUTF8Bytes { writeQuoted($0, at: start) }
    }

    /// The bytes with escapes (and the closing quote) at `start`; returns the end.
    @inline(never)
    private static func writeEscaped(_ source: UnsafePointer<UInt8>, _ count: Int,
                                     at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        var at = start
        var runStart = 0
        var index = 0
        while index < count {
            if index + 8 <= count,
               JSONStringWord.bytesNeedingEscape(JSONStringWord.load(source + index)) == 0 {
                index += 8
                continue
            }
            let byte = source[index]
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C else {
                index += 1
                continue
            }
            if runStart < index {
                at.update(from: source + runStart, count: index - runStart)
                at += index - runStart
            }
            runStart = index + 1
            at.pointee = UInt8(ascii: "\\")
            switch byte {
            case 0x22: at[1] = 0x22; at += 2
            case 0x5C: at[1] = 0x5C; at += 2
            case 0x0A: at[1] = UInt8(ascii: "n"); at += 2
            case 0x0D: at[1] = UInt8(ascii: "r"); at += 2
            case 0x09: at[1] = UInt8(ascii: "t"); at += 2
            default:
                let high = byte >> 4, low = byte & 0xF
                at[1] = UInt8(ascii: "u"); at[2] = 0x30; at[3] = 0x30; at[4] = 0x30 + high
                at[5] = low < 10 ? 0x30 + low : 0x57 + low
                at += 6
            }
            index += 1
        }
        if runStart < count {
            at.update(from: source + runStart, count: count - runStart)
            at += count - runStart
        }
        at.pointee = UInt8(ascii: "\"")
        return at + 1
    }
}
