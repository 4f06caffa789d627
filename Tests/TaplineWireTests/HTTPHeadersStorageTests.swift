import XCTest
@testable import TaplineWire

/// `HTTPHeaders` keeps the bytes it was given, in order, whichever way it was
/// built, and makes `String`s only where one is asked for.
final class HTTPHeadersStorageTests: XCTestCase {
    private func bytes(of headers: HTTPHeaders) -> [([UInt8], [UInt8])] {
        headers.withUnsafeFieldBytes { fields in
            (0..<fields.count).map { (Array(fields.name($0)), Array(fields.value($0))) }
        }
    }

    func testFieldsKeepOrderCaseAndDuplicates() {
        let headers = HTTPHeaders([("Host", "a"), ("X-Dup", "1"), ("x-dup", "2"), ("Empty", "")])
        XCTAssertEqual(headers.count, 4)
        XCTAssertEqual(headers.fields.map(\.name), ["Host", "X-Dup", "x-dup", "Empty"])
        XCTAssertEqual(headers.map(\.value), ["a", "1", "2", ""])
        XCTAssertEqual(headers.first(name: "X-DUP"), "1")
        XCTAssertEqual(headers.values(name: "x-dup"), ["1", "2"])
        XCTAssertEqual(headers.firstIndex(name: "empty"), 3)
        XCTAssertEqual(headers.name(at: 2), "x-dup")
        XCTAssertEqual(headers.value(at: 3), "")
        XCTAssertNil(headers.first(name: "Missing"))
        XCTAssertEqual(headers.byteCount, "Hosta".utf8.count + "X-Dup1".utf8.count + "x-dup2".utf8.count + 5)
    }

    /// A name given as a `StaticString` is found where the `String` lookup finds it: the
    /// first field of that name in any ASCII case, nil when none has it.
    func testFirstIndexOfALiteralNameAgreesWithTheStringLookup() {
        let lists = [HTTPHeaders(), HTTPHeaders([("Content-Length", "5")]),
                     HTTPHeaders([("Server", "a"), ("content-type", "text/plain"), ("Content-Type", "x")]),
                     HTTPHeaders([("Content-Typ", "a"), ("Content-Types", "b"), ("CONTENT-TYPE", "c")]),
                     HTTPHeaders([("Content_Type", "a"), ("Content-Type ", "b")])]
        for headers in lists {
            let found = headers.withUnsafeFieldBytes { $0.firstIndex(literalName: "Content-Type") }
            XCTAssertEqual(found, headers.firstIndex(name: "Content-Type"), "\(headers)")
        }
        XCTAssertEqual(lists[2].withUnsafeFieldBytes { $0.firstIndex(literalName: "Content-Type") }, 1)
        XCTAssertEqual(lists[3].withUnsafeFieldBytes { $0.firstIndex(literalName: "Content-Type") }, 2)
        XCTAssertNil(lists[4].withUnsafeFieldBytes { $0.firstIndex(literalName: "Content-Type") })
    }

    /// Equality is field by field: the same bytes split differently between name
    /// and value, or in another order, are different lists.
    func testEqualityComparesFieldBoundariesAndOrder() {
        XCTAssertEqual(HTTPHeaders([("a", "bc")]), HTTPHeaders([("a", "bc")]))
        XCTAssertNotEqual(HTTPHeaders([("ab", "c")]), HTTPHeaders([("a", "bc")]))
        XCTAssertNotEqual(HTTPHeaders([("a", "1"), ("b", "2")]), HTTPHeaders([("b", "2"), ("a", "1")]))
        XCTAssertNotEqual(HTTPHeaders([("a", "")]), HTTPHeaders([("a", ""), ("", "")]))
        XCTAssertEqual(HTTPHeaders(), HTTPHeaders([]))
    }

    func testReplaceOrAddKeepsThePositionOfTheFirstAndDropsTheRest() {
        var headers = HTTPHeaders([("Host", "a"), ("X-Forwarded-For", "1"), ("Accept", "*/*"), ("x-forwarded-for", "2")])
        headers.replaceOrAdd(name: "x-forwarded-for", value: "1, 2, 3")
        XCTAssertEqual(headers, HTTPHeaders([("Host", "a"), ("X-Forwarded-For", "1, 2, 3"), ("Accept", "*/*")]))
        headers.replaceOrAdd(name: "Via", value: "tapline")
        XCTAssertEqual(headers.fields.last?.name, "Via")
        headers.remove(name: "HOST")
        headers.remove(name: "not-there")
        XCTAssertEqual(headers, HTTPHeaders([("X-Forwarded-For", "1, 2, 3"), ("Accept", "*/*"), ("Via", "tapline")]))
    }

    /// A run of fields copied at once lands after what the list held, each field with
    /// its own name and value, as one `add(fieldAt:of:)` per field would give.
    func testAddingARunOfFieldsMatchesAddingThemOneByOne() {
        let source = HTTPHeaders([(":method", "POST"), (":authority", "a"), (":path", "/x"), ("te", "trailers"), ("", "")])
        for range in [0..<5, 0..<1, 2..<5, 1..<3, 3..<3, 4..<5] {
            var byRun = HTTPHeaders([("via", "1")]), byField = byRun
            source.withUnsafeFieldBytes { fields in
                byRun.add(fieldsIn: range, of: fields)
                for index in range { byField.add(fieldAt: index, of: fields) }
            }
            XCTAssertEqual(byRun, byField, "fields \(range)")
            XCTAssertEqual(byRun.count, 1 + range.count)
            byRun.add(name: "after", value: "2")  // the counts and offsets go on from the run's end
            XCTAssertEqual(byRun.fields.last?.value, "2")
            XCTAssertEqual(Array(byRun.dropFirst().prefix(range.count)).map(\.name), source.fields[range].map(\.name))
        }
    }

    /// A single match is replaced in place: later fields move with the new length.
    func testReplaceOrAddOfASingleFieldKeepsTheFieldsAfterIt() {
        var headers = HTTPHeaders([("Host", "a"), ("Accept", "*/*"), ("Via", "x")])
        headers.replaceOrAdd(name: "host", value: "a much longer host:8080")
        headers.replaceOrAdd(name: "Accept", value: "")
        XCTAssertEqual(headers, HTTPHeaders([("Host", "a much longer host:8080"), ("Accept", ""), ("Via", "x")]))
        XCTAssertEqual(headers.first(name: "via"), "x")
    }

    /// Replacing a single match with its own value leaves an equal list (and the list
    /// it was copied from as it was); a value differing only in case is replaced.
    func testReplaceOrAddWithTheSameValueLeavesAnEqualList() {
        let recorded = HTTPHeaders([("Accept", "*/*"), ("Host", "api.test:80"), ("Via", "x")])
        var same = recorded
        same.replaceOrAdd(name: "host", value: "api.test:80")
        XCTAssertEqual(same, recorded)
        var other = recorded
        other.replaceOrAdd(name: "Host", value: "API.test:80")
        XCTAssertEqual(other, HTTPHeaders([("Accept", "*/*"), ("Host", "API.test:80"), ("Via", "x")]))
        XCTAssertEqual(recorded.first(name: "Host"), "api.test:80")
        var duplicated = HTTPHeaders([("Host", "a"), ("Host", "a")])
        duplicated.replaceOrAdd(name: "Host", value: "a")
        XCTAssertEqual(duplicated, HTTPHeaders([("Host", "a")]))
    }

    /// obs-text (RFC 9110 §5.5) and other bytes that are not UTF-8 stay as they
    /// were for forwarding; only a `String` made from them shows U+FFFD.
    func testBytesThatAreNotUTF8AreKeptExactly() {
        let name: [UInt8] = Array("X-Latin1".utf8), value: [UInt8] = [0x63, 0x61, 0x66, 0xE9, 0x20, 0xFF]
        var headers = HTTPHeaders()
        name.withUnsafeBufferPointer { name in
            value.withUnsafeBufferPointer { value in headers.add(name: name, value: value) }
        }
        XCTAssertEqual(bytes(of: headers).first?.1, value)
        XCTAssertEqual(headers.first(name: "x-latin1"), "caf\u{FFFD} \u{FFFD}")
        let serialized = HTTP1Serializer.requestHead(HTTPRequestHead(method: "GET", target: "/", headers: headers))
        XCTAssertEqual(serialized, Array("GET / HTTP/1.1\r\nX-Latin1: ".utf8) + value + Array("\r\n\r\n".utf8))
    }

    /// What the parser keeps of a field line is its bytes: a Latin-1 value read
    /// from the wire is serialized again byte for byte.
    func testParsedObsTextIsSerializedUnchanged() throws {
        let wire = Array("GET /x HTTP/1.1\r\nHost: h\r\nX-Name: Jos".utf8) + [0xE9] + Array("\r\n\r\n".utf8)
        var parser = HTTP1RequestParser()
        parser.append(wire)
        guard case .head(let head) = try parser.nextEvent() else { return XCTFail("no head") }
        XCTAssertEqual(HTTP1Serializer.requestHead(head), wire)
    }

    /// The builder gives the same list as adding field by field, through growth of
    /// both of its buffers and after being emptied for reuse.
    func testBuilderMatchesAddingFieldByFieldAcrossGrowthAndReuse() {
        var builder = HTTPHeadersBuilder(byteCapacity: 1, fieldCapacity: 1)
        for round in 0..<3 {
            var expected = HTTPHeaders()
            for index in 0..<(40 + round * 50) {
                let name = "x-field-\(index)"
                let value = String(repeating: "v\(round)", count: index % 23)
                expected.add(name: name, value: value)
                name.withUTF8Bytes { name in value.withUTF8Bytes { builder.add(name: name, value: $0) } }
            }
            XCTAssertEqual(builder.count, expected.count)
            XCTAssertEqual(builder.build(), expected)
            XCTAssertEqual(builder.build().fields.map(\.value), expected.fields.map(\.value))
            builder.removeAll()
            XCTAssertEqual(builder.build(), HTTPHeaders())
        }
    }

    /// A list written in place (`init(unsafeUninitializedFields:bytes:initializingWith:)`,
    /// with scratch bytes past the last field) equals the list added field by field, and
    /// grows and is copied like one.
    func testAListWrittenInPlaceEqualsOneAddedFieldByField() {
        let fields: [HTTPHeaders.Field] = [("Host", "example.com"), ("", ""), ("Accept", ""), ("x-a", "1, 2")]
        let expected = HTTPHeaders(fields)
        let text = Array(fields.map { $0.name + $0.value }.joined().utf8)
        var written = HTTPHeaders(unsafeUninitializedFields: fields.count, bytes: text.count + 8) { bytes, ends in
            bytes.initialize(from: text, count: text.count)
            (bytes + text.count).initialize(repeating: UInt8(ascii: "#"), count: 8)
            var end = 0
            for (index, field) in fields.enumerated() {
                end += field.name.utf8.count
                ends[index * 2] = UInt32(end)
                end += field.value.utf8.count
                ends[index * 2 + 1] = UInt32(end)
            }
            return end
        }
        XCTAssertEqual(written, expected)
        XCTAssertEqual(bytes(of: written).map(\.1), fields.map { Array($0.value.utf8) })
        XCTAssertEqual(written.byteCount, text.count)
        let copy = written
        for index in 0..<20 { written.add(name: "n\(index)", value: "v") }
        XCTAssertEqual(copy, expected)
        XCTAssertEqual(written.count, fields.count + 20)
        XCTAssertEqual(written.value(at: 0), "example.com")
        XCTAssertEqual(written.name(at: 23), "n19")
        XCTAssertEqual(HTTPHeaders(unsafeUninitializedFields: 0, bytes: 8) { _, _ in XCTFail("called for no fields"); return 0 },
                       HTTPHeaders())
    }

    /// A copy is a separate list: adding to, replacing in or removing from one
    /// (in place or through growth) leaves the other as it was.
    func testCopiesDoNotShareChanges() {
        let original = HTTPHeaders([("Host", "a"), ("Accept", "*/*"), ("Via", "x")])
        var added = original
        added.add(name: "X-New", value: "1")
        var replaced = original
        replaced.replaceOrAdd(name: "accept", value: "text/html, application/json")
        var shortened = original
        shortened.replaceOrAdd(name: "host", value: "")
        var removed = original
        removed.remove(name: "via")
        var grown = original
        for index in 0..<100 { grown.add(name: "x-\(index)", value: String(repeating: "v", count: index)) }
        XCTAssertEqual(original.fields.map(\.name), ["Host", "Accept", "Via"])
        XCTAssertEqual(original.fields.map(\.value), ["a", "*/*", "x"])
        XCTAssertEqual(added.fields.map(\.name), ["Host", "Accept", "Via", "X-New"])
        XCTAssertEqual(replaced.fields.map(\.value), ["a", "text/html, application/json", "x"])
        XCTAssertEqual(shortened.fields.map(\.value), ["", "*/*", "x"])
        XCTAssertEqual(removed.fields.map(\.name), ["Host", "Accept"])
        XCTAssertEqual(grown.count, 103)
        XCTAssertEqual(grown.value(at: 102), String(repeating: "v", count: 99))
        XCTAssertEqual(grown.first(name: "via"), "x")
    }

    /// Reserved room is used without moving the list; a list grown from empty,
    /// one field at a time past every capacity, keeps every byte.
    func testGrowthFromEmptyAndAfterReservingKeepsEveryField() {
        var reserved = HTTPHeaders()
        reserved.reserveCapacity(2, bytes: 4)
        var fromEmpty = HTTPHeaders()
        var expected: [HTTPHeaders.Field] = []
        for index in 0..<300 {
            let field = (name: "n\(index)", value: String(repeating: "\(index % 10)", count: index % 40))
            expected.append(field)
            reserved.add(name: field.name, value: field.value)
            fromEmpty.add(name: field.name, value: field.value)
        }
        XCTAssertEqual(reserved, fromEmpty)
        XCTAssertEqual(fromEmpty.fields.map(\.name), expected.map(\.name))
        XCTAssertEqual(fromEmpty.fields.map(\.value), expected.map(\.value))
        XCTAssertEqual(fromEmpty.byteCount, expected.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count })
    }

    /// `copyShort` copies every length exactly and writes nothing past the end
    /// (its word paths use overlapping loads and stores).
    func testShortCopyCopiesEveryLengthExactly() {
        let source = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for count in 0...48 {
            var destination = [UInt8](repeating: 0xAA, count: 64)
            source.withUnsafeBufferPointer { source in
                destination.withUnsafeMutableBufferPointer {
                    $0.baseAddress!.copyShort(from: source.baseAddress!, count: count)
                }
            }
            XCTAssertEqual(Array(destination[..<count]), Array(source[..<count]), "count \(count)")
            XCTAssertTrue(destination[count...].allSatisfy { $0 == 0xAA }, "wrote past \(count)")
        }
    }
}
