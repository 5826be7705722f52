/// Reads the protobuf wire format in place, field by field, from bytes nobody vouches for: every length and varint is
/// checked against what is left, so malformed bytes throw ``Malformed`` and never read out of bounds or trap. The one
/// protobuf reader beside ``ProtobufWriter``: the request limits walk, the viewer's block scanner and its splitting of
/// received requests use it. Inlinable, and specialized here for `[UInt8]` as well: the viewer's calls from another
/// module went through the generic code (a copy, retain and release of the bytes for every varint), which made
/// reading a million-span trace's outline half as slow again.
package struct ProtobufReader<Bytes: RandomAccessCollection> where Bytes.Element == UInt8, Bytes.Index == Int {
    /// The bytes are not valid protobuf framing.
    package struct Malformed: Error {
        @inlinable package init() {}
    }

    @usableFromInline let bytes: Bytes
    /// The next byte to read.
    package var index: Int
    /// Where this message ends (exclusive).
    package let end: Int

    /// A reader of the message in `range` of `bytes`.
    @inlinable
    package init(_ bytes: Bytes, _ range: Range<Int>) {
        self.bytes = bytes
        index = range.lowerBound
        end = range.upperBound
    }

    /// Whether the message is read.
    @inlinable
    package var isAtEnd: Bool { index >= end }

    /// A base-128 varint of at most 64 bits.
    @inlinable
    @_specialize(where Bytes == [UInt8])
    package mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < end {
            let byte = bytes[index]
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw Malformed() }
        }
        throw Malformed()
    }

    /// A little-endian 64-bit value (wire type 1).
    @inlinable
    @_specialize(where Bytes == [UInt8])
    package mutating func fixed64() throws -> UInt64 {
        guard end - index >= 8 else { throw Malformed() }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
        index += 8
        return value
    }

    /// The range of a length-delimited field's bytes (wire type 2), which the reader then skips.
    @inlinable
    @_specialize(where Bytes == [UInt8])
    package mutating func lengthDelimited() throws -> Range<Int> {
        // Checked: a length from the bytes may be anything up to 2^64 - 1.
        guard let length = Int(exactly: try varint()), length <= end - index else { throw Malformed() }
        defer { index += length }
        return index..<index + length
    }

    /// A field header: (field number, wire type).
    @inlinable
    @_specialize(where Bytes == [UInt8])
    package mutating func field() throws -> (Int, Int) {
        let key = try varint()
        return (Int(truncatingIfNeeded: key >> 3), Int(key & 7))
    }

    /// Skips a field's value of `wireType`.
    @inlinable
    @_specialize(where Bytes == [UInt8])
    package mutating func skip(_ wireType: Int) throws {
        switch wireType {
        case 0: _ = try varint()
        case 1:
            guard end - index >= 8 else { throw Malformed() }
            index += 8
        case 2: _ = try lengthDelimited()
        case 3:
            // A group (deprecated, but valid protobuf a decoder skips as an unknown field): skipped to its end,
            // nested groups included, without recursion.
            var depth = 1
            while depth > 0 {
                let (_, inner) = try field()
                switch inner {
                case 3:
                    depth += 1
                    guard depth <= 100 else { throw Malformed() }
                case 4: depth -= 1
                default: try skip(inner)
                }
            }
        case 5:
            guard end - index >= 4 else { throw Malformed() }
            index += 4
        default: throw Malformed()
        }
    }
}
