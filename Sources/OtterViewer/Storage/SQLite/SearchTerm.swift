/// The attribute index's terms: a stable 64-bit FNV-1a hash of service, key and value, so one index lookup
/// answers "a span of this service has this attribute".
enum SearchTerm {
    static func hash(service: String, key: String, value: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            hash ^= 0xff
            hash = hash &* 0x100_0000_01b3
        }
        mix(service)
        mix(key)
        mix(value)
        return Int64(bitPattern: hash)
    }
}
