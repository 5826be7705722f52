/// The W3C `tracestate` list: vendor key/value pairs, most recently updated first.
///
/// Parsing follows W3C trace context: at most 32 members, keys `lcalpha (lcalpha / DIGIT / "_" / "-" / "*" / "/"){0,255}`
/// or `tenant@system` (tenant at most 241 and system at most 14 characters), values of at most 256 printable ASCII
/// characters other than `,` and `=` that do not end in a space. A header that breaks any rule is discarded whole.
public struct TraceState: Sendable, Hashable, CustomStringConvertible {
    /// One `key=value` member.
    public struct Entry: Sendable, Hashable {
        /// The member's key, a lowercase vendor name such as `rojo` or `tenant@system`.
        public var key: String
        /// The member's value: at most 256 printable ASCII characters, no `,` or `=`, not ending in a space.
        public var value: String

        /// Makes a member; it is checked only when it goes into a ``TraceState`` (see ``TraceState/init(entries:)``).
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// The most list members W3C trace context allows.
    public static let maximumEntryCount = 32

    /// The members in header order.
    public private(set) var entries: [Entry]

    /// An empty trace state (allocates nothing).
    public init() {
        entries = []
    }

    /// A trace state from validated members; nil if any member breaks the rules, a key repeats, or there are
    /// more than 32.
    public init?(entries: [Entry]) {
        guard entries.count <= Self.maximumEntryCount else { return nil }
        var seen = Set<String>()
        for entry in entries {
            guard Self.isValidKey(entry.key), Self.isValidValue(entry.value), seen.insert(entry.key).inserted else {
                return nil
            }
        }
        self.entries = entries
    }

    /// Parses a `tracestate` header value; nil when it is invalid and must be discarded.
    /// Empty members (`a=1,,b=2`) and optional white space around members are allowed, as the spec says.
    public init?(headerValue: String) {
        var parsed: [Entry] = []
        for rawMember in headerValue.split(separator: ",", omittingEmptySubsequences: false) {
            let member = rawMember.trimmingOptionalWhiteSpace()
            if member.isEmpty { continue }
            guard let equals = member.firstIndex(of: "=") else { return nil }
            let key = String(member[member.startIndex..<equals])
            let value = String(member[member.index(after: equals)...])
            parsed.append(Entry(key: key, value: value))
        }
        self.init(entries: parsed)
    }

    /// True when there are no members.
    public var isEmpty: Bool { entries.isEmpty }

    /// The value for `key`, if present.
    public subscript(key: String) -> String? {
        entries.first { $0.key == key }?.value
    }

    /// A copy with `key` set to `value` and moved to the front, as W3C requires of an updated member; the
    /// right-most member is dropped when the list would exceed 32. Nil if the key or value is invalid.
    public func setting(_ key: String, to value: String) -> TraceState? {
        guard Self.isValidKey(key), Self.isValidValue(value) else { return nil }
        var copy = self
        copy.entries.removeAll { $0.key == key }
        copy.entries.insert(Entry(key: key, value: value), at: 0)
        if copy.entries.count > Self.maximumEntryCount { copy.entries.removeLast() }
        return copy
    }

    /// A copy without `key`.
    public func removing(_ key: String) -> TraceState {
        var copy = self
        copy.entries.removeAll { $0.key == key }
        return copy
    }

    /// The header value: `key1=value1,key2=value2`.
    public var headerValue: String {
        entries.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The ``headerValue``.
    public var description: String { headerValue }

    static func isValidKey(_ key: String) -> Bool {
        let utf8 = Array(key.utf8)
        guard !utf8.isEmpty, utf8.count <= 256 else { return false }
        func isKeyCharacter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "/"):
                return true
            default:
                return false
            }
        }
        func isLowercaseLetter(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        if let at = utf8.firstIndex(of: UInt8(ascii: "@")) {
            let tenant = utf8[..<at]
            let system = utf8[(at + 1)...]
            guard let tenantFirst = tenant.first, let systemFirst = system.first,
                tenant.count <= 241, system.count <= 14,
                isLowercaseLetter(tenantFirst) || isDigit(tenantFirst), isLowercaseLetter(systemFirst),
                tenant.allSatisfy(isKeyCharacter), system.allSatisfy(isKeyCharacter)
            else { return false }
            return true
        }
        return isLowercaseLetter(utf8[0]) && utf8.allSatisfy(isKeyCharacter)
    }

    static func isValidValue(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard utf8.count <= 256, let last = utf8.last, last != UInt8(ascii: " ") else { return false }
        return utf8.allSatisfy { byte in
            byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: ",") && byte != UInt8(ascii: "=")
        }
    }
}

extension Substring {
    /// Drops leading and trailing spaces and tabs (HTTP optional white space).
    func trimmingOptionalWhiteSpace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
