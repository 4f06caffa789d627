/// One part of a `multipart/form-data` body.
public struct MultipartPart: Sendable, Equatable {
    /// The `name` of its Content-Disposition.
    public var name: String
    /// The `filename`, for file parts.
    public var fileName: String?
    public var contentType: String?
    public var body: [UInt8]

    public init(name: String, fileName: String?, contentType: String?, body: [UInt8]) {
        self.name = name
        self.fileName = fileName
        self.contentType = contentType
        self.body = body
    }
}
