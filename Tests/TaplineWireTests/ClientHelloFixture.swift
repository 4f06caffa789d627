/// A real ClientHello captured from `openssl s_client -connect 127.0.0.1:PORT
/// -servername example.test -alpn h2,http/1.1` (OpenSSL 3.0): one TLS record.
enum ClientHelloFixture {
    static let serverName = "example.test"
    static let alpn = ["h2", "http/1.1"]

    static let hex = [
        "160301014b010001470303ee3d71e173492ea58ec2820dc3de65d52524efa0a4ce8bfb8a28df1bb19c631a208ce99b48",
        "855b067d7b0861da1fc33970853f1f36ba7ca20f235445ca96f8984d003e130213031301c02cc030009fcca9cca8ccaa",
        "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000c0",
        "00000011000f00000c6578616d706c652e74657374000b000403000102000a00160014001d0017001e00190018010001",
        "01010201030104002300000010000e000c02683208687474702f312e310016000000170000000d002a00280403050306",
        "03080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301",
        "002d00020101003300260024001d00202e5b3daed0746792ddd32e7ea9f619200028831f43b0d4dd43798f6960944a37",
    ].joined()

    static var bytes: [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for c in hex.utf8 {
            let nibble = c <= 0x39 ? c - 0x30 : c - 0x61 + 10
            if let h = high { out.append(h << 4 | nibble); high = nil } else { high = nibble }
        }
        return out
    }
}
