import TaplineCapture
import TaplineFlow

/// Where each stored body run ends in a direction's byte stream, with the time it was
/// recorded: answers "when did byte N arrive". `scale` maps a decoded offset to a stored
/// one (gRPC-Web text stores 4 base64 bytes for 3 decoded: `(4, 3)`). A value type.
struct BodyChunkTimes {
    private var ends: [UInt64] = []
    private var times: [Timestamp?] = []
    private let scale: (numerator: Int, denominator: Int)

    init(extents: [BodyExtent], scale: (Int, Int)) {
        self.scale = scale
        var end: UInt64 = 0
        for extent in extents {
            end += extent.length
            ends.append(end)
            times.append(extent.recorded)
        }
    }

    /// The time of the run holding the byte just before decoded offset `offset`; nil when
    /// no run holds it or its run has no time.
    func time(ofByteBefore offset: Int) -> Timestamp? {
        let stored = UInt64(max(1, (offset * scale.numerator + scale.denominator - 1) / scale.denominator))
        var low = 0
        var high = ends.count
        while low < high {  // the first run whose end reaches the byte
            let middle = (low + high) / 2
            if ends[middle] >= stored { high = middle } else { low = middle + 1 }
        }
        return low < times.count ? times[low] : nil
    }
}
