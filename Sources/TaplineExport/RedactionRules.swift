/// Which names hold secrets: the redaction rule list of `tapline export`
/// (documented in docs/export.md). Names compare case-insensitively and
/// ignoring `-` and `_` (`access_token`, `accessToken` and `Access-Token` are one name).
///
/// Beyond these lists, `Authorization`, `Proxy-Authorization`, `Cookie` and
/// `Set-Cookie` are always handled (see `PostmanExporter`). `adding(_:)`
/// extends every list with user names (`--redact NAME`). A value type.
public struct RedactionRules: Sendable, Equatable {
    /// Request and response header names whose values are secrets.
    public private(set) var headers: Set<String>
    /// Query parameter names whose values are secrets.
    public private(set) var queryParameters: Set<String>
    /// JSON member, form field and multipart field names whose values are secrets.
    public private(set) var bodyFields: Set<String>

    public static let defaultHeaders = [
        "x-api-key", "api-key", "apikey", "x-apikey", "x-auth-token", "x-access-token", "x-refresh-token",
        "x-csrf-token", "x-xsrf-token", "x-session-token", "x-session-id", "x-amz-security-token",
        "x-goog-api-key", "x-client-secret", "private-token", "x-private-token",
    ]
    public static let defaultQueryParameters = [
        "api_key", "apikey", "key", "access_token", "token", "id_token", "refresh_token", "auth", "signature",
        "sig", "client_secret", "password", "secret", "session", "sessionid", "x-amz-signature",
        "x-amz-credential", "x-amz-security-token",
    ]
    public static let defaultBodyFields = [
        "password", "passwd", "secret", "client_secret", "access_token", "refresh_token", "id_token", "token",
        "api_key", "apikey", "private_key", "session_token", "auth_token", "otp", "pin", "credit_card",
        "card_number", "cvv",
    ]

    public init(headers: [String] = RedactionRules.defaultHeaders,
                queryParameters: [String] = RedactionRules.defaultQueryParameters,
                bodyFields: [String] = RedactionRules.defaultBodyFields) {
        self.headers = Set(headers.map(Self.normalized))
        self.queryParameters = Set(queryParameters.map(Self.normalized))
        self.bodyFields = Set(bodyFields.map(Self.normalized))
    }

    /// These rules plus `names` in every list.
    public func adding(_ names: [String]) -> RedactionRules {
        var copy = self
        for name in names.map(Self.normalized) where !name.isEmpty {
            copy.headers.insert(name)
            copy.queryParameters.insert(name)
            copy.bodyFields.insert(name)
        }
        return copy
    }

    public func isSecretHeader(_ name: String) -> Bool { headers.contains(Self.normalized(name)) }
    public func isSecretQueryParameter(_ name: String) -> Bool { queryParameters.contains(Self.normalized(name)) }
    public func isSecretBodyField(_ name: String) -> Bool { bodyFields.contains(Self.normalized(name)) }

    /// Lowercased without `-` and `_`.
    static func normalized(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "-" && $0 != "_" })
    }
}
