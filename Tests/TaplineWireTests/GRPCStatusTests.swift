import XCTest
@testable import TaplineWire

final class GRPCStatusTests: XCTestCase {
    func testTheStatusOfTrailersOrATrailersOnlyHead() {
        let trailers = HTTPHeaders([("grpc-status", "5"), ("grpc-message", "no such thing"), ("x-why", "testing")])
        XCTAssertEqual(GRPCStatus(fields: trailers), GRPCStatus(code: 5, message: "no such thing"))
        XCTAssertEqual(GRPCStatus(fields: trailers)?.name, "NOT_FOUND")
        let head = HTTPHeaders([(":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "0")])
        XCTAssertEqual(GRPCStatus(fields: head), GRPCStatus(code: 0, message: ""))
        XCTAssertEqual(GRPCStatus(fields: head)?.isOK, true)
    }

    func testNoStatusWithoutANumericGrpcStatus() {
        XCTAssertNil(GRPCStatus(fields: HTTPHeaders([("content-type", "application/grpc")])))
        XCTAssertNil(GRPCStatus(fields: HTTPHeaders([("grpc-status", "five")])))
        XCTAssertNil(GRPCStatus(fields: HTTPHeaders([("grpc-status", "-1")])))
    }

    func testCodesGRPCDoesNotDefineKeepTheirNumber() {
        XCTAssertEqual(GRPCStatus(code: 16, message: "").name, "UNAUTHENTICATED")
        XCTAssertEqual(GRPCStatus(code: 17, message: "").name, "CODE_17")
    }

    func testTheMessageIsPercentDecoded() {
        // gRPC percent-encodes bytes outside 0x20-0x7E and "%" itself
        let fields = HTTPHeaders([("grpc-status", "3"), ("grpc-message", "caf%C3%A9 100%25 %zz%4")])
        XCTAssertEqual(GRPCStatus(fields: fields)?.message, "café 100% %zz%4")
    }

    func testWhichContentTypesAreGRPC() {
        for gRPC in ["application/grpc", "application/grpc+proto", "application/GRPC+json", "application/grpc; charset=x"] {
            XCTAssertTrue(GRPCStatus.isGRPC(contentType: gRPC), gRPC)
        }
        for other in ["application/grpc-web", "application/grpc-web+proto", "application/json", "",
                      "application/grp", "application/grpcs", " application/grpc", "application\u{0F}grpc",
                      "application/grpc ;x", "application/grpc\u{301}", "applicatión/grpc",
                      "ａpplication/grpc", "applicat\u{130}on/grpc", "a\u{301}pplication/grpc"] {
            XCTAssertFalse(GRPCStatus.isGRPC(contentType: other), other)
        }
        // Bytes or characters alike: any case, parameters or a suffix after the name.
        for gRPC in ["APPLICATION/GRPC", "Application/gRPC+proto;x=1", "application/grpc;", "application/grpc+", "application/grpc+é"] {
            XCTAssertTrue(GRPCStatus.isGRPC(contentType: gRPC), gRPC)
        }
    }
}
