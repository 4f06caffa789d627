import XCTest
@testable import TaplineCLI

/// `tapline run --transparent [--ports LIST]`: which TCP the namespace's rule redirects.
final class TransparentPortsTests: XCTestCase {
    private func parse(_ arguments: [String]) throws -> (TransparentPorts?, remaining: CommandArguments) {
        var args = CommandArguments(arguments)
        let ports = try TransparentPorts(&args)
        return (ports, args)
    }

    func testAbsentWithoutTransparent() throws {
        XCTAssertNil(try parse(["--quiet"]).0)
    }

    func testEveryPortByDefaultAndWithAll() throws {
        let every = try XCTUnwrap(try parse(["--transparent"]).0)
        XCTAssertNil(every.ports)
        let all = try XCTUnwrap(try parse(["--transparent", "--ports", "all"]).0)
        XCTAssertNil(all.ports)
    }

    func testAListOfPortsAndTheOtherArgumentsAreLeft() throws {
        let (ports, remaining) = try parse(["--quiet", "--ports", "80,443", "--transparent"])
        XCTAssertEqual(ports?.ports, [80, 443])
        XCTAssertThrowsError(try remaining.finish()) // --quiet is another parser's
    }

    func testBadListsAndPortsWithoutTransparentAreUsageErrors() {
        for arguments in [["--transparent", "--ports", "80,"], ["--transparent", "--ports", "0"],
                          ["--transparent", "--ports", "http"], ["--ports", "80"]] {
            XCTAssertThrowsError(try parse(arguments), arguments.joined(separator: " ")) { error in
                XCTAssertTrue(error is UsageError)
            }
        }
    }
}
