import TaplineCLI
import Foundation
exit(TaplineCommand.main(CommandLine.arguments))
