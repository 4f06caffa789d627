/// A test needs something of the machine it runs on that is not there, and may
/// not skip (in CI): thrown, it fails the test with `message`.
struct MissingTestEnvironment: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
