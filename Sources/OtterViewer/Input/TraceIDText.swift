import Foundation
import Otter

/// Trace ids as the Jaeger APIs write and read them.
enum TraceIDText {
    /// Jaeger's forms: 1 to 32 hex digits (shorter ids are left-padded with zeros, so a 64-bit id is 16 digits),
    /// or the 16 bytes in base64 (what protobuf JSON clients send). The all-zero id is invalid.
    static func parse(_ text: String) -> TraceID? {
        guard !text.isEmpty, text.utf8.count <= 32 else { return nil }
        if text.utf8.allSatisfy({ $0 < 128 && Character(Unicode.Scalar($0)).isHexDigit }) {
            let padded = String(repeating: "0", count: 32 - text.utf8.count) + text.lowercased()
            guard let traceID = TraceID(hexString: padded), traceID.isValid else { return nil }
            return traceID
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), data.count == 16, let traceID = TraceID(bytes: data), traceID.isValid else {
            return nil
        }
        return traceID
    }

    /// A trace id path segment, percent-decoded (base64 ids carry `/`, `+` and `=` as `%2F`, `%2B`, `%3D`).
    static func pathParameter(_ segment: String?) -> String {
        let text = segment ?? ""
        return text.removingPercentEncoding ?? text
    }

    /// Why `text` is not a trace id, as Jaeger says it.
    static func parseError(_ text: String) -> String {
        if text.utf8.count > 32 { return "TraceID cannot be longer than 32 hex characters: \(text.prefix(80))" }
        let hex = text.utf8.allSatisfy { $0 < 128 && Character(Unicode.Scalar($0)).isHexDigit }
        return hex && !text.isEmpty
            ? "trace id \(text) is all zeros" : "strconv.ParseUint: parsing \(UntrustedValue.quoted(text)): invalid syntax"
    }

    /// Jaeger's v1 text: 16 hex digits when the high half is zero (a 64-bit id), else 32.
    static func jaeger(_ traceID: TraceID) -> String {
        let hex = traceID.hexString
        return hex.hasPrefix("0000000000000000") ? String(hex.dropFirst(16)) : hex
    }
}
