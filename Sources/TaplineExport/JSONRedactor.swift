import TaplineWire

/// Replaces the values of secret members (`password`, `access_token`, ... per
/// `RedactionRules.bodyFields`) anywhere in a JSON document with
/// `{{variable}}` strings, recording each value in the `SecretRegistry`.
/// Objects and arrays under a secret name are walked, not replaced. Pure apart
/// from the registry.
public enum JSONRedactor {
    public static func redact(_ value: JSONValue, rules: RedactionRules, registry: inout SecretRegistry) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map { redact($0, rules: rules, registry: &registry) })
        case .object(let members):
            return .object(members.map { member in
                guard rules.isSecretBodyField(member.key) else {
                    return JSONMember(member.key, redact(member.value, rules: rules, registry: &registry))
                }
                switch member.value {
                case .string(let text):
                    return JSONMember(member.key, .string(registry.record(text, as: EndpointNormalizer.camelCase(member.key))))
                case .number(let text):
                    return JSONMember(member.key, .string(registry.record(text, as: EndpointNormalizer.camelCase(member.key))))
                case .array, .object:
                    return JSONMember(member.key, redact(member.value, rules: rules, registry: &registry))
                default:
                    return member
                }
            })
        default:
            return value
        }
    }
}
