/// Why `PEMFile` could not load a file. Callers turn it into a `TLSError`
/// naming the file and saying what to do (the remedy differs: regenerate the
/// CA, or fix the `--cert`/`--key` argument).
enum PEMFileFailure: Error, Equatable {
    /// The file could not be opened or read (the system's reason, e.g. "No such file or directory").
    case unreadable(String)
    /// No PEM block of the expected kind (certificate / private key) in it.
    case notPEM
    /// A private key protected by a passphrase (Tapline never prompts for one).
    case encrypted
}
