/// The version `tapline --version` prints and captures record.
enum TaplineVersion {
    static let string = "0.1.0"
}
