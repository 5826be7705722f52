import Foundation

/// Walks the structure of a JSON document without decoding it: where each value begins and ends, and the keys of
/// objects. A big upload is then decoded one small value at a time (a span of a Jaeger trace) rather than as one
/// document, whose decoded form costs many times its size. The walk checks that brackets match and strings end; the
/// decoder of each value checks the rest. It keeps no stack of its own beyond one byte per open bracket, so a deep
/// document costs memory in proportion to its size, never the process's stack.
struct JSONScanner {
    struct SyntaxError: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "not valid JSON at byte \(offset): \(reason)" }
    }

    private let bytes: UnsafeRawBufferPointer
    /// Where the walk is: the offset of the next byte to read.
    private(set) var position = 0

    /// A scanner at the start of `bytes`, which must outlive it.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The first byte of the next value (after white space), without reading it; nil at the end.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    /// Moves to `offset` (one the scanner gave: the start of a value).
    mutating func move(to offset: Int) {
        position = min(max(offset, 0), bytes.count)
    }

    /// Reads the next value whatever it is and answers its byte range.
    mutating func skipValue() throws -> Range<Int> {
        guard let first = peek() else { throw SyntaxError(offset: position, reason: "a value was expected") }
        let start = position
        switch first {
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try skipContainer()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            while position < bytes.count, !Self.endsScalar(bytes[position]) { position += 1 }
        default:
            throw SyntaxError(offset: position, reason: "unexpected \(Self.shown(first))")
        }
        return start..<position
    }

    /// Reads an array, calling `element` at the start of each of its values; `element` must read exactly that value.
    mutating func forEachElement(_ element: (inout JSONScanner) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if peek() == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            try element(&self)
            guard let next = peek() else { throw SyntaxError(offset: position, reason: "the array does not end") }
            position += 1
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { throw SyntaxError(offset: position - 1, reason: "',' or ']' expected") }
        }
    }

    /// Reads an object, calling `member` with each key, the scanner at the start of its value; `member` must read
    /// exactly that value.
    mutating func forEachMember(_ member: (inout JSONScanner, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if peek() == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw SyntaxError(offset: position, reason: "a key was expected") }
            let key = try readString()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
            guard let next = peek() else { throw SyntaxError(offset: position, reason: "the object does not end") }
            position += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw SyntaxError(offset: position - 1, reason: "',' or '}' expected") }
        }
    }

    /// Checks that nothing but white space follows.
    mutating func expectEnd() throws {
        if let extra = peek() { throw SyntaxError(offset: position, reason: "\(Self.shown(extra)) after the document") }
    }

    /// Reads a string and answers its text, escapes decoded.
    private mutating func readString() throws -> String {
        let range = try skipValue()
        let inner = UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        guard let text = try? JSONDecoder().decode(String.self, from: Data(bytes[range])) else {
            throw SyntaxError(offset: range.lowerBound, reason: "a string with a bad escape")
        }
        return text
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard peek() == byte else {
            throw SyntaxError(offset: position, reason: "\(Self.shown(byte)) expected")
        }
        position += 1
    }

    /// From an opening quote to just after the closing one.
    private mutating func skipString() throws {
        let start = position
        position += 1
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                position += 1
                return
            case UInt8(ascii: "\\"):
                position += 2
            default:
                position += 1
            }
        }
        position = bytes.count
        throw SyntaxError(offset: start, reason: "the string does not end")
    }

    /// From an opening bracket to just after the one that closes it.
    private mutating func skipContainer() throws {
        let start = position
        var open: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                try skipString()
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                open.append(byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]"))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard open.popLast() == byte else { throw SyntaxError(offset: position, reason: "unexpected \(Self.shown(byte))") }
                if open.isEmpty {
                    position += 1
                    return
                }
            default:
                break
            }
            position += 1
        }
        throw SyntaxError(offset: start, reason: "the \(Self.shown(bytes[start])) is never closed")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, Self.isWhitespace(bytes[position]) { position += 1 }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func endsScalar(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")
            || byte == UInt8(ascii: ":")
    }

    private static func shown(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(UnicodeScalar(byte)))'" : String(format: "byte 0x%02X", byte)
    }
}
