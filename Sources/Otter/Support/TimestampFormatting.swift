/// UTC ISO 8601 timestamps without Foundation's formatters, which are slow and allocate.
package enum TimestampFormatting {
    /// `2019-11-07T21:52:59.591634Z`: microsecond precision, as opentelemetry-python prints.
    package static func iso8601Microseconds(nanosecondsSinceEpoch: UInt64) -> String {
        let totalSeconds = Int64(nanosecondsSinceEpoch / 1_000_000_000)
        let microseconds = Int((nanosecondsSinceEpoch % 1_000_000_000) / 1_000)
        let (year, month, day) = civilDate(daysSinceEpoch: totalSeconds / 86_400)
        let secondsOfDay = Int(totalSeconds % 86_400)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondsOfDay / 3600, 2)):"
            + "\(pad(secondsOfDay % 3600 / 60, 2)):\(pad(secondsOfDay % 60, 2)).\(pad(microseconds, 6))Z"
    }

    /// `2019-11-07 21:52:59.601 UTC`: millisecond precision, for people.
    package static func dateTime(nanosecondsSinceEpoch: UInt64) -> String {
        let totalSeconds = Int64(nanosecondsSinceEpoch / 1_000_000_000)
        let milliseconds = Int((nanosecondsSinceEpoch % 1_000_000_000) / 1_000_000)
        let (year, month, day) = civilDate(daysSinceEpoch: totalSeconds / 86_400)
        let secondsOfDay = Int(totalSeconds % 86_400)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(secondsOfDay / 3600, 2)):"
            + "\(pad(secondsOfDay % 3600 / 60, 2)):\(pad(secondsOfDay % 60, 2)).\(pad(milliseconds, 3)) UTC"
    }

    /// Converts days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days-to-civil algorithm).
    package static func civilDate(daysSinceEpoch: Int64) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPortion = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPortion + 2) / 5 + 1
        let month = monthPortion < 10 ? monthPortion + 3 : monthPortion - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date: the inverse of ``civilDate(daysSinceEpoch:)`` (Howard
    /// Hinnant's days-from-civil algorithm). `month` is 1...12 and `day` 1...31.
    package static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// A duration for people: `850ns`, `12.3µs`, `4.56ms`, `1.20s`.
    package static func humanDuration(nanoseconds: UInt64) -> String {
        let value = Double(nanoseconds)
        switch nanoseconds {
        case ..<1_000: return "\(nanoseconds)ns"
        case ..<1_000_000: return format(value / 1_000, "µs")
        case ..<1_000_000_000: return format(value / 1_000_000, "ms")
        default: return format(value / 1_000_000_000, "s")
        }
    }

    private static func format(_ value: Double, _ unit: String) -> String {
        let decimals = value < 10 ? 2 : (value < 100 ? 1 : 0)
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = decimals == 0 ? String(Int(rounded)) : String(rounded)
        if decimals > 0, let dot = text.firstIndex(of: ".") {
            let fraction = text.distance(from: dot, to: text.endIndex) - 1
            if fraction < decimals { text += String(repeating: "0", count: decimals - fraction) }
        }
        return text + unit
    }
}
