/// The members every flow line starts with as the encoder writes it,
/// `{"t":<digits>,"type":"<name>","flow":<digits>` (`JSONLineBuilder.beginFlowEvent`),
/// read without the rest of the line: what `CapturedFlowDetail.replayPlan` takes of a
/// line the plan never looks into.
///
/// Taken only in exactly the encoder's shape: those three members first and in that
/// order, no whitespace anywhere in them, a type that is a listed `CaptureEventType`
/// (no escapes), both numbers 1 to 18 digits without a leading zero (as
/// `CaptureFlatLine` reads integers), then `,` or the line's closing `}`; and the
/// line's last byte must be `}` (a line cut short ends otherwise). Anything else makes
/// `init` return nil, and the caller reads the line the full way.
///
/// What follows the prefix is not looked at: a line taken here may be damaged further on,
/// or repeat one of these members there (which the encoder never writes; a full read takes
/// the last). Its full read, when its flow is read again (`CapturedFlowIndex.flow(at:)`),
/// is what finds such damage. Reads only the bytes it is given; a value, made and used
/// on the caller's thread.
struct CaptureFlowLinePrefix {
    /// `t`, in microseconds.
    let time: Int64
    let type: CaptureEventType
    let flow: UInt64
    /// Where the type's name is in the line (between its quotes), and where the prefix
    /// ends (at the `,` or `}` after the flow id): for `CaptureFlatLine` to read on from.
    let typeStart: Int32
    let typeEnd: Int32
    let end: Int

    /// The prefix of the line in `bytes` (no line terminator), or nil when the line does
    /// not start (or end) exactly as the encoder writes a flow line. `eventTypeNames` is
    /// `CaptureEventType.names`' lookup (held by the caller: see `CaptureFlatLine.Slots`).
    @inline(__always)
    init?(_ bytes: UnsafeBufferPointer<UInt8>, eventTypeNames: CaptureByteStringTable.Lookup) {
        // The fixed parts are compared as words (`JSONStringWord.load`), each only where
        // the line has the bytes: `{"t":` with the 3 bytes after it (the shortest flow line
        // has 30), `,"type":` and `,"flow":` whole.
        guard let base = bytes.baseAddress, case let count = bytes.count, count >= 8, base[count &- 1] == UInt8(ascii: "}"),
              JSONStringWord.load(base) & 0xFF_FFFF_FFFF == Self.timeMemberStart else { return nil }
        var reader = CaptureFlatLine.Reader(base: base, count: count)
        reader.index = 5
        guard let time = reader.integer(), reader.index &+ 9 <= count,
              JSONStringWord.load(base + reader.index) == Self.typeMemberStart,
              base[reader.index &+ 8] == UInt8(ascii: "\"") else { return nil }
        reader.index &+= 9
        let nameStart = reader.index
        let nameLimit = min(count, nameStart &+ eventTypeNames.maxLength &+ 1)
        // To the first quote before `nameLimit`: a word at a time to a quote or backslash
        // while eight bytes before it are left, then byte by byte.
        while reader.index &+ 8 <= nameLimit {
            let stops = JSONStringWord.quotesOrBackslashes(JSONStringWord.load(base + reader.index))
            if stops != 0 {
                reader.index &+= stops.trailingZeroBitCount &>> 3
                break
            }
            reader.index &+= 8
        }
        while reader.index < nameLimit, base[reader.index] != UInt8(ascii: "\"") { reader.index &+= 1 }
        // A name with an escape or any byte a listed name has not is none of them; the
        // loops stopped at its closing quote if `index` is below `nameLimit`.
        guard let type = eventTypeNames.index(of: base + nameStart, count: reader.index &- nameStart),
              reader.index &+ 9 <= count, base[reader.index] == UInt8(ascii: "\""),
              JSONStringWord.load(base + (reader.index &+ 1)) == Self.flowMemberStart else { return nil }
        let nameEnd = reader.index
        reader.index &+= 9
        guard let flow = reader.integer() else { return nil }
        end = reader.index
        guard reader.take(UInt8(ascii: ",")) || (reader.take(UInt8(ascii: "}")) && reader.isAtEnd) else { return nil }
        self.time = time
        self.type = CaptureEventType.cases[type]
        self.flow = UInt64(flow)
        // (The line is shorter than `Int32.max`: `CaptureFlatLine` reads no longer one.)
        typeStart = Int32(truncatingIfNeeded: nameStart)
        typeEnd = Int32(truncatingIfNeeded: nameEnd)
    }

    /// `{"t":` as the low five bytes of a word (`JSONStringWord.load`: first byte lowest).
    private static var timeMemberStart: UInt64 { 0x3A_22_74_22_7B }
    /// `,"type":` as a word.
    private static var typeMemberStart: UInt64 { 0x3A_22_65_70_79_74_22_2C }
    /// `,"flow":` as a word.
    private static var flowMemberStart: UInt64 { 0x3A_22_77_6F_6C_66_22_2C }
}
