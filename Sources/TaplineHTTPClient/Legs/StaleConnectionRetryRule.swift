/// When a request that failed on a kept-alive connection is sent once more, on a
/// fresh connection: the one rule every owner of a leg applies.
///
/// A server may close an idle keep-alive connection just as the proxy reuses it
/// (RFC 9112 §9.3.1): the request then fails before any response byte. It is sent
/// again when all of these hold:
/// - it went over a reused connection, and no byte of a response came back;
/// - it was not sent again already (so at most twice in all);
/// - its method is idempotent (RFC 9110 §9.2.2);
/// - it has no body, and the client has sent all of it.
///
/// The two handlers used to differ: HTTP/1.1 clients required no body by the
/// request's framing but not that the request was complete; HTTP/2 clients required
/// the stream ended with no DATA. This rule takes the stricter of each: no body at
/// all (framing or bytes) *and* a complete request. Bodies are not held for a resend,
/// so a request with one is never sent twice.
public enum StaleConnectionRetryRule {
    /// Methods whose request may be sent twice with the effect of once (RFC 9110 §9.2.2).
    static let idempotentMethods: Set<String> = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]

    public static func allowsResend(method: String, requestHasBody: Bool, requestComplete: Bool,
                             overReusedConnection: Bool, responseStarted: Bool, alreadyResent: Bool) -> Bool {
        overReusedConnection && !responseStarted && !alreadyResent && !requestHasBody && requestComplete
            && idempotentMethods.contains(method)
    }
}
