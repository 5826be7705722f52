/// The attribute index's terms: a stable 64-bit FNV-1a hash of service, key and value, so one index lookup
/// answers "a span of this service has this attribute".
enum SearchTerm {
    static func hash(service: String, key: String, value: String) -> Int64 {
        var hasher = Hasher()
        hasher.mix(service.utf8)
        hasher.mix(key.utf8)
        hasher.mix(value.utf8)
        return hasher.value
    }

    /// FNV-1a over parts, each part followed by 0xff (so that "ab"+"c" and "a"+"bc" differ).
    struct Hasher {
        private var state: UInt64 = 0xcbf2_9ce4_8422_2325

        mutating func mix(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                state ^= UInt64(byte)
                state = state &* 0x100_0000_01b3
            }
            state ^= 0xff
            state = state &* 0x100_0000_01b3
        }

        var value: Int64 { Int64(bitPattern: state) }
    }
}
