import Hummingbird
import Otter
import OtterOTLP

/// A request's query string read as `application/x-www-form-urlencoded`, the way browsers, the Jaeger UI,
/// Grafana and Python `requests` write it: `+` is a space, `%XX` is a byte, and a name may repeat. Invalid
/// percent escapes are kept as written. Names and values are bounded by the request line, which the HTTP
/// server already limits.
struct QueryParameters: Sendable {
    private let pairs: [(name: String, value: String)]

    init(_ query: String?) {
        guard let query, !query.isEmpty else {
            pairs = []
            return
        }
        pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : "")
        }
    }

    init(_ request: Request) {
        self.init(request.uri.query)
    }

    /// The first value of `name`.
    func get(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// The first non-empty value among `names` (for parameters with aliases).
    func first(_ names: String...) -> String? {
        names.lazy.compactMap { name in self.get(name).flatMap { $0.isEmpty ? nil : $0 } }.first
    }

    /// Every value of `name`, in order.
    func getAll(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }

    var names: [String] { pairs.map(\.name) }

    /// Form decoding: `+` to space, then percent escapes to bytes; the bytes are read as UTF-8 (invalid
    /// sequences become U+FFFD).
    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < utf8.count, let high = Hex.anyCaseDigitValue(utf8[index + 1]),
                let low = Hex.anyCaseDigitValue(utf8[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 2
            } else {
                bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
