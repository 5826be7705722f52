import Foundation

/// A parameter that could not be read: a request answers it with 400 and this message, a flag with a usage error.
package struct InvalidParameter: Error, CustomStringConvertible, Equatable {
    /// The parameter, when one value of one parameter is at fault.
    package let name: String?
    /// What is wrong with the value, in the words of Go's parsers where Jaeger uses them (`strconv.ParseInt: ...`,
    /// `time: invalid duration ...`), so messages read as Jaeger's do.
    package let detail: String

    package init(_ description: String) {
        name = nil
        detail = description
    }

    package init(name: String, detail: String) {
        self.name = name
        self.detail = detail
    }

    /// Jaeger v1's form: `unable to parse param 'NAME': DETAIL`.
    package var description: String {
        name.map { "unable to parse param '\($0)': \(detail)" } ?? detail
    }

    /// Jaeger api_v3's form: `malformed parameter NAME: DETAIL`.
    package var apiV3Description: String {
        name.map { "malformed parameter \($0): \(detail)" } ?? detail
    }
}

/// The one place where text from a request, a flag or the environment becomes a number. Every conversion is
/// checked: a value that does not parse, overflows or falls outside its range is an ``InvalidParameter`` that names
/// the parameter, never a trap and never a silently clamped value.
package enum UntrustedValue {
    /// The latest instant and the longest duration Otter represents: `Int64.max` nanoseconds (year 2262), the range
    /// of Swift's `Duration`, Go's `time.Duration` and the store's integer columns.
    package static let maximumNanoseconds = UInt64(Int64.max)

    /// A decimal integer in `range`.
    package static func integer(_ name: String, _ text: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text) else {
            let outOfRange = !text.isEmpty && text.drop { $0 == "-" || $0 == "+" }.allSatisfy { $0.isASCII && $0.isNumber }
            throw InvalidParameter(
                name: name, detail: "strconv.ParseInt: parsing \(quoted(text)): \(outOfRange ? "value out of range" : "invalid syntax")")
        }
        guard range.contains(value) else {
            throw InvalidParameter(name: name, detail: "\(value) is out of range (\(range.lowerBound) to \(range.upperBound))")
        }
        return value
    }

    /// `text` quoted as Go's `%q` would for plain text, cut at 80 characters.
    package static func quoted(_ text: String) -> String {
        "\"" + text.prefix(80).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `strconv.ParseBool`: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
    package static func bool(_ name: String, _ text: String) throws -> Bool {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: throw InvalidParameter(name: name, detail: "strconv.ParseBool: parsing \(quoted(text)): invalid syntax")
        }
    }

    /// A decimal count of `unitNanoseconds` since the epoch (1,000 for microseconds, 1,000,000 for milliseconds), as
    /// nanoseconds. Like Jaeger, any 64-bit integer is accepted; instants before 1970 or after 2262 (where no span
    /// can be stored) mean the nearest of the two, which selects the same spans.
    package static func timestamp(_ name: String, _ text: String, unitNanoseconds: UInt64) throws -> UInt64 {
        guard let value = Int64(text) else {
            let outOfRange = !text.isEmpty && text.drop { $0 == "-" || $0 == "+" }.allSatisfy { $0.isASCII && $0.isNumber }
            throw InvalidParameter(
                name: name, detail: "strconv.ParseInt: parsing \(quoted(text)): \(outOfRange ? "value out of range" : "invalid syntax")")
        }
        guard value > 0 else { return 0 }
        let (nanoseconds, overflow) = UInt64(value).multipliedReportingOverflow(by: unitNanoseconds)
        return overflow ? maximumNanoseconds : min(nanoseconds, maximumNanoseconds)
    }

    /// A length of time as a decimal count of `unitNanoseconds` (Jaeger's `lookback`, `step`: milliseconds), as
    /// nanoseconds: any 64-bit integer but a negative one; beyond ``maximumNanoseconds`` means all of time.
    package static func interval(_ name: String, _ text: String, unitNanoseconds: UInt64) throws -> UInt64 {
        let value = try timestamp(name, text, unitNanoseconds: unitNanoseconds)
        guard !text.hasPrefix("-") else {
            throw InvalidParameter(name: name, detail: "\(text.prefix(80)) is negative")
        }
        return value
    }

    /// A Go duration (`time.ParseDuration`): decimal numbers with units ns, us, µs, ms, s, m, h, e.g. `72h`,
    /// `1.5s`, `1h30m`, in nanoseconds. Negative durations and durations beyond ``maximumNanoseconds`` are invalid.
    package static func duration(_ name: String, _ text: String) throws -> UInt64 {
        let invalid = InvalidParameter(name: name, detail: "time: invalid duration \(quoted(text))")
        let units: [(String, UInt64)] = [
            ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
            ("m", 60_000_000_000), ("h", 3_600_000_000_000),
        ]
        var rest = Substring(text)
        if rest.first == "+" { rest = rest.dropFirst() }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { throw invalid }
        var total: UInt64 = 0
        while !rest.isEmpty {
            let whole = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(whole.count)
            var fraction = Substring("")
            if rest.first == "." {
                rest = rest.dropFirst()
                fraction = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fraction.count)
            }
            guard !(whole.isEmpty && fraction.isEmpty) else { throw invalid }
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard !unitText.isEmpty else { throw InvalidParameter(name: name, detail: "time: missing unit in duration \(quoted(text))") }
            guard let unit = units.first(where: { unitText == $0.0 })?.1 else {
                throw InvalidParameter(name: name, detail: "time: unknown unit \(quoted(String(unitText))) in duration \(quoted(text))")
            }
            rest = rest.dropFirst(unitText.count)
            // Whole part: checked multiply and add. Fraction: at most 18 digits matter at nanosecond resolution.
            guard let wholeValue = whole.isEmpty ? 0 : UInt64(whole) else { throw invalid }
            let (scaled, overflow) = wholeValue.multipliedReportingOverflow(by: unit)
            var fractionNanoseconds: UInt64 = 0
            var divisor: UInt64 = 1
            for digit in fraction.prefix(18) {
                fractionNanoseconds = fractionNanoseconds * 10 + UInt64(digit.wholeNumberValue ?? 0)
                divisor *= 10
            }
            // unit * fraction / divisor without overflow: unit <= 3.6e12, fraction < divisor <= 1e18.
            let fractional = UInt64((Double(fractionNanoseconds) / Double(divisor) * Double(unit)).rounded())
            let (sum, sumOverflow) = total.addingReportingOverflow(scaled)
            let (next, nextOverflow) = sum.addingReportingOverflow(fractional)
            // Go's limit too: a time.Duration is an int64 of nanoseconds (about 2562047h).
            guard !overflow, !sumOverflow, !nextOverflow, next <= maximumNanoseconds else { throw invalid }
            total = next
        }
        return total
    }

    /// A size such as `1GB`, `500MB`, `64KB` or a plain number of bytes (powers of 1024), from 1 byte to 1 PB.
    package static func byteSize(_ name: String, _ text: String) throws -> Int {
        let invalid = InvalidParameter(name: name, detail: "\(quoted(text)) is not a size like 1GB, 500MB or 4096")
        let units: [(String, Int)] = [("PB", 1 << 50), ("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        let upper = text.uppercased().trimmingCharacters(in: .whitespaces)
        var number = Substring(upper)
        var factor = 1
        if let unit = units.first(where: { upper.hasSuffix($0.0) }) {
            number = number.dropLast(unit.0.count)
            factor = unit.1
        }
        number = Substring(number.trimmingCharacters(in: .whitespaces))
        // Digits and at most one decimal point: no exponents, signs, NaN or infinity.
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            number.filter({ $0 == "." }).count <= 1, let value = Double(number), value.isFinite
        else { throw invalid }
        let bytes = value * Double(factor)
        guard bytes >= 1, bytes <= Double(1 << 50) else {
            throw InvalidParameter(name: name, detail: "\(quoted(text)) is out of range (1 byte to 1PB)")
        }
        return Int(bytes)
    }
}
