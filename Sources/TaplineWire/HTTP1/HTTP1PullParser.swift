/// The part of the request and response parsers that is the same: a failure
/// sticks (every later pull throws it again), and end of input inside a
/// message turns into `truncatedMessage` at the pull that reaches the cut.
///
/// A conforming parser supplies `step()` (the next event from buffered bytes,
/// or nil) and says whether it is inside a message; the extension supplies the
/// public `nextEvent()` / `finish()` behaviour. Value types owned by one connection.
protocol HTTP1PullParser {
    associatedtype Event
    var failure: HTTP1ParseError? { get set }
    var receivedEOF: Bool { get set }
    /// Bytes of an unfinished message are buffered (or a body is unfinished).
    var isMidMessage: Bool { get }
    mutating func step() throws(HTTP1ParseError) -> Event?
}

extension HTTP1PullParser {
    /// `step()`, with a sticky failure and truncation at end of input.
    mutating func pull() throws(HTTP1ParseError) -> Event? {
        if let failure { throw failure }
        do throws(HTTP1ParseError) {
            let event = try step()
            if event == nil, receivedEOF, isMidMessage { throw .truncatedMessage }
            return event
        } catch {
            failure = error
            throw error
        }
    }

    /// Marks end of input; throws `truncatedMessage` when the buffered bytes end
    /// inside a message (found by pulling a copy to the end, so this parser can
    /// still hand out the complete events before the cut).
    mutating func markEndOfInput() throws(HTTP1ParseError) {
        receivedEOF = true
        if failure != nil { return }
        var probe = self
        do throws(HTTP1ParseError) {
            while try probe.pull() != nil {}
        } catch {
            if error == .truncatedMessage { throw error }
        }
    }
}
