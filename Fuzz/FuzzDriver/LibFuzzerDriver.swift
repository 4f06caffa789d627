// SwiftPM links executables with `--defsym main=<Target>_main` (so that tests can
// link them); with -parse-as-library nothing defines that symbol, and libFuzzer's
// own `main` is not used. So each fuzz target defines `<Target>_main` with
// `@_cdecl` and calls `runLibFuzzer`, which hands over to libFuzzer's documented
// driver (LLVMFuzzerRunDriver, FuzzerInterface.h).

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// Runs libFuzzer with the command line `argc`/`argv`, calling `testOneInput` per input.
public func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                         _ testOneInput: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, testOneInput)
}
