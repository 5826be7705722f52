/// Lowercase hexadecimal encoding and strict decoding, as W3C trace context and OTLP/JSON need them.
package enum Hex {
    /// The lowercase hex digit of a value in 0...15 (arithmetic, not a table: no lazy global to check per digit).
    @inline(__always)
    static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ UInt8(ascii: "0") : nibble &+ (UInt8(ascii: "a") &- 10)
    }

    /// The value as exactly `2 * byteCount` lowercase hex digits, most significant first.
    package static func encode(_ value: UInt64, byteCount: Int = 8) -> String {
        let length = byteCount * 2
        return String(unsafeUninitializedCapacity: length) { buffer in
            var remaining = value
            for index in stride(from: length - 1, through: 0, by: -1) {
                buffer[index] = digit(UInt8(truncatingIfNeeded: remaining) & 0xF)
                remaining >>= 4
            }
            return length
        }
    }

    /// Appends two lowercase hex digits per byte to `output`.
    package static func append(_ bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
        for byte in bytes {
            output.append(digit(byte >> 4))
            output.append(digit(byte & 0x0F))
        }
    }

    /// Two lowercase hex digits per byte.
    package static func string(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        append(bytes, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Writes `value` as 16 lowercase hex digits into `buffer` starting at `offset`, eight digits per store.
    /// - Precondition: `offset + 16 <= buffer.count`.
    package static func write(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        precondition(offset >= 0 && offset <= buffer.count - 16, "hex digits written outside the buffer")
        guard let base = buffer.baseAddress else { return }
        let target = UnsafeMutableRawPointer(base + offset)
        target.storeBytes(of: eightDigits(UInt32(truncatingIfNeeded: value >> 32)).littleEndian, as: UInt64.self)
        target.storeBytes(of: eightDigits(UInt32(truncatingIfNeeded: value)).littleEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// One byte with only its high bit set, in each of a word's eight bytes.
    private static let highBits: UInt64 = 0x8080_8080_8080_8080
    /// One in each of a word's eight bytes.
    private static let ones: UInt64 = 0x0101_0101_0101_0101

    /// The eight lowercase hex digits of `value`, most significant first, as the bytes of a word from its lowest byte
    /// up: each nibble is spread to a byte of its own, then `0` or `a - 10` is added to all eight at once.
    @inline(__always)
    static func eightDigits(_ value: UInt32) -> UInt64 {
        let word = UInt64(value)
        let halves = ((word >> 16) | (word << 32)) & 0x0000_FFFF_0000_FFFF
        let bytes = ((halves >> 8) | (halves << 16)) & 0x00FF_00FF_00FF_00FF
        let nibbles = ((bytes >> 4) | (bytes << 8)) & 0x0F0F_0F0F_0F0F_0F0F
        // A nibble of 10 or more reaches the byte's high bit when 0x76 is added (no byte carries into the next).
        let letters = ((nibbles &+ 0x76 &* ones) & highBits) >> 7
        return nibbles &+ 0x30 &* ones &+ letters &* (0x61 - 0x30 - 10)
    }

    /// The value of eight lowercase hex digits loaded from memory as one word (the first digit in the lowest byte), or
    /// nil if any byte is not one: every byte is range-checked at once, then the nibbles are gathered pairwise.
    @inline(__always)
    static func eightDigitsValue(_ word: UInt64) -> UInt64? {
        guard word & highBits == 0 else { return nil }
        // Each byte is below 0x80, so adding a byte below 0x80 never carries into the next byte: a byte's high bit
        // then says whether it is at least `low` (or, negated, at most `high`).
        let atLeastZero = (word &+ (0x80 - 0x30) &* ones) & highBits
        let atMostNine = ~(word &+ (0x7F - 0x39) &* ones) & highBits
        let atLeastA = (word &+ (0x80 - 0x61) &* ones) & highBits
        let atMostF = ~(word &+ (0x7F - 0x66) &* ones) & highBits
        let letters = atLeastA & atMostF
        guard (atLeastZero & atMostNine) | letters == highBits else { return nil }
        let nibbles = (word & 0x0F0F_0F0F_0F0F_0F0F) &+ (letters >> 7) &* 9
        let bytes = ((nibbles << 4) | (nibbles >> 8)) & 0x00FF_00FF_00FF_00FF
        let halves = ((bytes << 8) | (bytes >> 16)) & 0x0000_FFFF_0000_FFFF
        return ((halves << 16) | (halves >> 32)) & 0xFFFF_FFFF
    }

    /// Decodes `count` (at most 16) lowercase hex digits of `buffer` from `offset`; nil if any is not one.
    @inline(__always)
    package static func decodeLowercase(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int, count: Int) -> UInt64? {
        guard count <= 16, offset >= 0, offset <= buffer.count - count, let base = buffer.baseAddress else {
            return nil
        }
        if count == 16 {
            let source = UnsafeRawPointer(base + offset)
            guard let high = eightDigitsValue(UInt64(littleEndian: source.loadUnaligned(as: UInt64.self))),
                let low = eightDigitsValue(UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            else { return nil }
            return high << 32 | low
        }
        var value: UInt64 = 0
        for index in offset..<(offset + count) {
            guard let nibble = lowercaseDigitValue(base[index]) else { return nil }
            value = (value << 4) | UInt64(nibble)
        }
        return value
    }

    /// The value of one lowercase hex digit, or nil for anything else (uppercase included).
    @inline(__always)
    package static func lowercaseDigitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte &- UInt8(ascii: "a") &+ 10
        default: return nil
        }
    }

    /// The value of one hex digit of either case, or nil.
    @inline(__always)
    package static func anyCaseDigitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte &- UInt8(ascii: "A") &+ 10
        default: return lowercaseDigitValue(byte)
        }
    }

    /// Decodes up to 16 hex digits into an integer; nil if any byte is not a hex digit.
    package static func decodeUInt64(_ bytes: some Collection<UInt8>, allowUppercase: Bool = false) -> UInt64? {
        guard bytes.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            let nibble = allowUppercase ? anyCaseDigitValue(byte) : lowercaseDigitValue(byte)
            guard let nibble else { return nil }
            value = (value << 4) | UInt64(nibble)
        }
        return value
    }

    /// Bytes from hex digits of either case; nil for an odd count or a non-digit.
    package static func bytes(fromHex hex: String) -> [UInt8]? {
        bytes(fromHex: Array(hex.utf8)[...])
    }

    package static func bytes(fromHex utf8: ArraySlice<UInt8>) -> [UInt8]? {
        let utf8 = Array(utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = anyCaseDigitValue(utf8[index]), let low = anyCaseDigitValue(utf8[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }
}
