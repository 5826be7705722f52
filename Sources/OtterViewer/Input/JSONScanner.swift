import Foundation

/// Walks the structure of a JSON document without decoding it: where each value begins and ends, and the keys of
/// objects. A big upload is then decoded one small value at a time (a span of a Jaeger trace) rather than as one
/// document, whose decoded form costs many times its size. Every value it passes over is checked as RFC 8259 has it
/// (literals, numbers, strings with their escapes and UTF-8, commas and colons), so a document it accepts is one a
/// JSON decoder accepts. It keeps no stack of its own beyond one byte per open bracket, so a deep document costs
/// memory in proportion to its size, never the process's stack.
struct JSONScanner {
    struct SyntaxError: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "not valid JSON at byte \(offset): \(reason)" }
    }

    private let bytes: UnsafeRawBufferPointer
    /// Where the walk is: the offset of the next byte to read.
    private(set) var position = 0

    /// A scanner at the start of `bytes`, which must outlive it. A UTF-8 byte order mark is passed over.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
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
            try skipScalar()
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

    /// From an opening quote to just after the closing one: no control characters, only JSON's escapes, valid UTF-8.
    private mutating func skipString() throws {
        let start = position
        position += 1
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count else {
                    position = bytes.count
                    continue
                }
                let escaped = bytes[position + 1]
                if escaped == UInt8(ascii: "u") {
                    guard position + 6 <= bytes.count, (position + 2..<position + 6).allSatisfy({ Self.isHex(bytes[$0]) }) else {
                        throw SyntaxError(offset: position, reason: "a \\u escape without four hexadecimal digits")
                    }
                    position += 6
                } else {
                    guard Self.simpleEscapes.contains(escaped) else {
                        throw SyntaxError(offset: position, reason: "an unknown escape \\\(Self.shown(escaped))")
                    }
                    position += 2
                }
            case 0..<0x20:
                throw SyntaxError(offset: position, reason: "a control character in a string")
            case 0x80...:
                try skipUTF8Sequence()
            default:
                position += 1
            }
        }
        position = bytes.count
        throw SyntaxError(offset: start, reason: "the string does not end")
    }

    /// One multi-byte UTF-8 character (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
    private mutating func skipUTF8Sequence() throws {
        let lead = bytes[position]
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            second = 0x80...0x9F
        case 0xF0:
            length = 4
            second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            second = 0x80...0x8F
        default: throw SyntaxError(offset: position, reason: "not UTF-8")
        }
        guard position + length <= bytes.count, second.contains(bytes[position + 1]),
            (position + 2..<position + length).allSatisfy({ (0x80...0xBF).contains(bytes[$0]) })
        else { throw SyntaxError(offset: position, reason: "not UTF-8") }
        position += length
    }

    /// `true`, `false`, `null` or a number, as JSON writes them.
    private mutating func skipScalar() throws {
        let start = position
        for literal in Self.literals where bytes[start] == literal[0] {
            guard bytes.count - start >= literal.count, bytes[start..<start + literal.count].elementsEqual(literal) else { break }
            position += literal.count
            return try checkScalarEnds(start)
        }
        func digits() -> Int {
            let first = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - first
        }
        func next(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }
        _ = next(UInt8(ascii: "-"))
        let leadingZero = position < bytes.count && bytes[position] == UInt8(ascii: "0")
        let integerDigits = digits()
        guard integerDigits > 0, !leadingZero || integerDigits == 1 else { throw SyntaxError(offset: start, reason: "not a JSON value") }
        if next(UInt8(ascii: ".")), digits() == 0 { throw SyntaxError(offset: start, reason: "a number without digits after '.'") }
        if next(UInt8(ascii: "e")) || next(UInt8(ascii: "E")) {
            if !next(UInt8(ascii: "+")) { _ = next(UInt8(ascii: "-")) }
            guard digits() > 0 else { throw SyntaxError(offset: start, reason: "a number without exponent digits") }
        }
        try checkScalarEnds(start)
    }

    private func checkScalarEnds(_ start: Int) throws {
        guard position == bytes.count || Self.endsScalar(bytes[position]) else {
            throw SyntaxError(offset: start, reason: "not a JSON value")
        }
    }

    /// From an opening bracket to just after the one that closes it, checking everything between.
    private mutating func skipContainer() throws {
        enum Expecting { case valueOrClose, value, keyOrClose, key, colon, commaOrClose }
        let start = position
        var open: [UInt8] = []
        var expecting = Expecting.value
        while true {
            guard let byte = peek() else {
                throw SyntaxError(offset: start, reason: "the \(Self.shown(bytes[start])) is never closed")
            }
            switch (expecting, byte) {
            case (.valueOrClose, UInt8(ascii: "]")), (.keyOrClose, UInt8(ascii: "}")), (.commaOrClose, UInt8(ascii: "]")),
                (.commaOrClose, UInt8(ascii: "}")):
                guard open.popLast() == byte else { throw SyntaxError(offset: position, reason: "unexpected \(Self.shown(byte))") }
                position += 1
                if open.isEmpty { return }
                expecting = .commaOrClose
            case (.valueOrClose, UInt8(ascii: "{")), (.value, UInt8(ascii: "{")):
                open.append(UInt8(ascii: "}"))
                position += 1
                expecting = .keyOrClose
            case (.valueOrClose, UInt8(ascii: "[")), (.value, UInt8(ascii: "[")):
                open.append(UInt8(ascii: "]"))
                position += 1
                expecting = .valueOrClose
            case (.valueOrClose, UInt8(ascii: "\"")), (.value, UInt8(ascii: "\"")):
                try skipString()
                expecting = .commaOrClose
            case (.valueOrClose, _), (.value, _):
                guard open.count > 0 else { throw SyntaxError(offset: position, reason: "unexpected \(Self.shown(byte))") }
                guard
                    byte == UInt8(ascii: "-") || Self.literals.contains(where: { $0[0] == byte })
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                else { throw SyntaxError(offset: position, reason: "unexpected \(Self.shown(byte))") }
                try skipScalar()
                expecting = .commaOrClose
            case (.keyOrClose, UInt8(ascii: "\"")), (.key, UInt8(ascii: "\"")):
                try skipString()
                expecting = .colon
            case (.colon, UInt8(ascii: ":")):
                position += 1
                expecting = .value
            case (.commaOrClose, UInt8(ascii: ",")):
                position += 1
                expecting = open.last == UInt8(ascii: "]") ? .value : .key
            default:
                throw SyntaxError(offset: position, reason: "unexpected \(Self.shown(byte))")
            }
        }
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, Self.isWhitespace(bytes[position]) { position += 1 }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func endsScalar(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static let literals: [[UInt8]] = [Array("true".utf8), Array("false".utf8), Array("null".utf8)]
    private static let simpleEscapes: [UInt8] = Array(#""\/bfnrt"#.utf8)

    private static func shown(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(UnicodeScalar(byte)))'" : String(format: "byte 0x%02X", byte)
    }
}
