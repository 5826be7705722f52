import Foundation
import Instrumentation

/// W3C Baggage: application-defined key/value pairs that travel with a request.
public struct Baggage: Sendable, Hashable {
    /// One member: a key, its (decoded) value, and optional properties kept as written.
    public struct Entry: Sendable, Hashable {
        /// The member's key. A receiver drops a member whose key is not an HTTP token (no spaces or separators), and
        /// keys are not checked when set.
        public var key: String
        /// The member's value, decoded: percent-encoding is added when the header is written and removed when it is read.
        public var value: String
        /// The member's properties, the text after its first `;`, kept as written and not parsed; nil when there are none.
        public var metadata: String?

        /// Makes a member from its parts; nothing is checked or encoded here.
        public init(key: String, value: String, metadata: String? = nil) {
            self.key = key
            self.value = value
            self.metadata = metadata
        }
    }

    /// The most members W3C Baggage lets a header carry.
    public static let maximumEntryCount = 180
    /// The longest header W3C Baggage allows, in bytes.
    public static let maximumHeaderLength = 8192

    /// The members in order: one per key, first-set first.
    public private(set) var entries: [Entry]

    /// Makes baggage of `entries`, one member per key: a repeated key keeps its first position and its last value and
    /// metadata.
    public init(entries: [Entry] = []) {
        self.entries = []
        for entry in entries {
            if let index = self.entries.firstIndex(where: { $0.key == entry.key }) {
                self.entries[index] = entry
            } else {
                self.entries.append(entry)
            }
        }
    }

    /// The value for `key`; setting nil removes it.
    public subscript(key: String) -> String? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    /// True when the baggage has no members.
    public var isEmpty: Bool { entries.isEmpty }

    /// Parses a `baggage` header; members that break the grammar are skipped, the rest kept.
    public init(headerValue: String) {
        var parsed: [Entry] = []
        for rawMember in headerValue.split(separator: ",") {
            let parts = rawMember.split(separator: ";", maxSplits: 1)
            guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { continue }
            let key = pair[..<equals].trimmingOptionalWhiteSpace()
            let rawValue = pair[pair.index(after: equals)...].trimmingOptionalWhiteSpace()
            guard !key.isEmpty, key.allSatisfy(Self.isTokenCharacter),
                let value = String(rawValue).removingPercentEncoding
            else { continue }
            let metadata = parts.count > 1 ? String(parts[1].trimmingOptionalWhiteSpace()) : nil
            parsed.append(Entry(key: String(key), value: value, metadata: metadata))
            if parsed.count == Self.maximumEntryCount { break }
        }
        entries = parsed
    }

    /// The header value, values percent-encoded, cut at the member and length limits.
    public var headerValue: String {
        var header = ""
        for entry in entries.prefix(Self.maximumEntryCount) {
            var member = "\(entry.key)=\(Self.percentEncode(entry.value))"
            if let metadata = entry.metadata, !metadata.isEmpty { member += ";\(metadata)" }
            let separatorLength = header.isEmpty ? 0 : 1
            guard header.utf8.count + separatorLength + member.utf8.count <= Self.maximumHeaderLength else { break }
            if !header.isEmpty { header += "," }
            header += member
        }
        return header
    }

    private static func isTokenCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue, ascii > 0x20, ascii < 0x7F else { return false }
        return !"()<>@,;:\\\"/[]?={}".contains(character)
    }

    private static let valueCharacters: CharacterSet = {
        var allowed = CharacterSet()
        for scalar in 0x21...0x7E where ![0x22, 0x2C, 0x3B, 0x5C, 0x25].contains(scalar) {
            allowed.insert(Unicode.Scalar(UInt8(scalar)))
        }
        return allowed
    }()

    private static func percentEncode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: valueCharacters) ?? value
    }
}

enum BaggageKey: InstrumentationContextKey {
    typealias Value = Baggage
    static var nameOverride: String? { "otter.baggage" }
}

extension InstrumentationContext {
    /// The W3C baggage carried by this context.
    public var baggage: Baggage? {
        get { self[BaggageKey.self] }
        set { self[BaggageKey.self] = newValue }
    }
}

/// W3C Baggage propagation: the `baggage` header.
public struct W3CBaggagePropagator: TextMapPropagator {
    /// `baggage`, the header W3C Baggage travels in.
    public static let baggageField = "baggage"

    /// Makes the propagator; it has no settings.
    public init() {}

    /// `baggage`.
    public var fields: [String] { [Self.baggageField] }

    /// Parses the `baggage` header into the context's ``Baggage`` (see ``Baggage/init(headerValue:)``), replacing any
    /// baggage already there. A missing header, or one with no valid member, leaves `context` unchanged.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: Self.baggageField, from: carrier) else { return }
        let baggage = Baggage(headerValue: header)
        if !baggage.isEmpty { context.baggage = baggage }
    }

    /// Writes the context's baggage as the `baggage` header (see ``Baggage/headerValue``); writes nothing when there is
    /// no baggage or it is empty.
    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let baggage = context.baggage, !baggage.isEmpty else { return }
        let header = baggage.headerValue
        if !header.isEmpty { injector.inject(header, forKey: Self.baggageField, into: &carrier) }
    }
}
