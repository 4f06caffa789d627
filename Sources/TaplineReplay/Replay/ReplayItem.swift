import TaplineCapture

/// A selected flow that will be replayed: the recording and the request made of it.
public struct ReplayItem {
    public let source: CapturedFlow
    public let request: ReplayRequest

    public init(source: CapturedFlow, request: ReplayRequest) {
        self.source = source
        self.request = request
    }
}
