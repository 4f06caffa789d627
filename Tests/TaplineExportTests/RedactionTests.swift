import TaplineExport
import XCTest
import TaplineWire

final class RedactionTests: XCTestCase {
    func testJSONFieldsBecomeVariablesAndScrubCatchesEchoes() throws {
        var registry = SecretRegistry()
        let rules = RedactionRules().adding(["customerRef"])
        let body = try JSONParser.parse(#"{"user":"ada","password":"hunter22","nested":{"Access-Token":"tok-123456","customer_ref":"C-998877"}}"#)
        let clean = JSONRedactor.redact(body, rules: rules, registry: &registry)
        XCTAssertEqual(JSONWriter.text(clean, indent: nil),
                       #"{"user":"ada","password":"{{password}}","nested":{"Access-Token":"{{accessToken}}","customer_ref":"{{customerRef}}"}}"#)
        XCTAssertEqual(registry.variables, ["password", "accessToken", "customerRef"])
        XCTAssertEqual(registry.scrub("echo: hunter22 and tok-123456 and hunter22%21"), "echo: {{password}} and {{accessToken}} and {{password}}%21")
        let nested = registry.scrub(JSONValue.object([JSONMember("k", .array([.string("x tok-123456")]))]))
        XCTAssertEqual(nested, .object([JSONMember("k", .array([.string("x {{accessToken}}")]))]))
    }

    func testRuleNamesIgnoreCaseDashesAndUnderscores() {
        let rules = RedactionRules()
        XCTAssertTrue(rules.isSecretHeader("X-Api-Key"))
        XCTAssertTrue(rules.isSecretQueryParameter("accessToken"))
        XCTAssertTrue(rules.isSecretBodyField("Client-Secret"))
        XCTAssertFalse(rules.isSecretBodyField("username"))
    }
}
