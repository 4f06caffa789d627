import Foundation

/// The `tapline` command line: dispatches to subcommands.
public enum TaplineCommand {
    public static func main(_ arguments: [String]) -> Int32 { 0 }
}
