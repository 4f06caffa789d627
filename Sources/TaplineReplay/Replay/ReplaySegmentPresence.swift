import Foundation
import TaplineCapture

/// Which body segment files of a session exist, each looked up once (a session has a
/// few, and every flow's bodies are in them): what `ReplayPlan` checks a flow's stored
/// bodies against. Holds one entry per segment number looked up.
///
/// Thread ownership: one thread at a time (a plan's planning loop, or one reader of a
/// streamed plan's flows: `ReplayPlan.withOwnReader` makes another).
final class ReplaySegmentPresence {
    private var missing: [Int: Bool] = [:]

    /// The path of the first segment `body` refers to that does not exist, if one does not.
    func missingPath(_ body: CapturedBody) -> String? {
        for extent in body.extents {
            // The path is made only to look a segment up the first time, or to name it.
            let isMissing: Bool
            if let known = missing[extent.segment] {
                isMissing = known
            } else {
                isMissing = !FileManager.default.fileExists(atPath: body.segmentPath(extent.segment))
                missing[extent.segment] = isMissing
            }
            if isMissing { return body.segmentPath(extent.segment) }
        }
        return nil
    }
}
