import Foundation
import Logging

/// A log record's severity: OpenTelemetry's `SeverityNumber` (1 to 24: TRACE, TRACE2 … FATAL4; 0 unspecified) and
/// its short name.
public struct LogSeverity: Sendable, Hashable, Comparable {
    /// 0 (unspecified) or 1 to 24.
    public let number: Int

    /// A severity number; values outside 0...24 are clamped into it.
    public init(number: Int) {
        self.number = min(24, max(0, number))
    }

    /// swift-log's level as the OpenTelemetry specification's appendix maps it: trace 1, debug 5, info 9, notice 10,
    /// warning 13, error 17, critical 21.
    public init(_ level: Logger.Level) {
        switch level {
        case .trace: number = 1
        case .debug: number = 5
        case .info: number = 9
        case .notice: number = 10
        case .warning: number = 13
        case .error: number = 17
        case .critical: number = 21
        }
    }

    /// No severity given (0); it sorts below every other severity.
    public static let unspecified = LogSeverity(number: 0)
    /// `TRACE` (1), the finest detail; swift-log's `trace`.
    public static let trace = LogSeverity(number: 1)
    /// `DEBUG` (5), diagnostic detail; swift-log's `debug`.
    public static let debug = LogSeverity(number: 5)
    /// `INFO` (9), normal operation; swift-log's `info`.
    public static let info = LogSeverity(number: 9)
    /// `WARN` (13), something unexpected that did not fail; swift-log's `warning`.
    public static let warn = LogSeverity(number: 13)
    /// `ERROR` (17), a failure; swift-log's `error`.
    public static let error = LogSeverity(number: 17)
    /// `FATAL` (21), a failure the program cannot continue from; swift-log's `critical`.
    public static let fatal = LogSeverity(number: 21)
    /// swift-log's `notice` (INFO2).
    public static let notice = LogSeverity(number: 10)
    /// swift-log's `warning`: the same as ``warn``.
    public static let warning = LogSeverity(number: 13)
    /// swift-log's `critical`: the same as ``fatal``.
    public static let critical = LogSeverity(number: 21)

    /// The range's short name, as OpenTelemetry writes it: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`, with
    /// the step within the range after it (`INFO2`); empty when unspecified.
    public var name: String {
        guard number > 0 else { return "" }
        let names = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
        let step = (number - 1) % 4
        return names[(number - 1) / 4] + (step == 0 ? "" : String(step + 1))
    }

    /// The severity a name stands for, case-insensitively: OpenTelemetry's short names (`TRACE` … `FATAL4`, `WARN`),
    /// swift-log's levels (`notice` 10, `warning` 13, `critical` 21), or a number from 0 to 24. Nil for anything else.
    public init?(named text: String) {
        let name = text.trimmingCharacters(in: .whitespaces).uppercased()
        if let number = Int(name) {
            guard (0...24).contains(number) else { return nil }
            self.init(number: number)
            return
        }
        switch name {
        case "NOTICE": self.init(number: 10)
        case "WARNING": self.init(number: 13)
        case "CRITICAL": self.init(number: 21)
        default:
            let ranges = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
            guard let range = ranges.firstIndex(where: { name.hasPrefix($0) }) else { return nil }
            let step = name.dropFirst(ranges[range].count)
            guard step.isEmpty || (step.count == 1 && ("2"..."4").contains(step)) else { return nil }
            self.init(number: range * 4 + 1 + (step.isEmpty ? 0 : Int(step)! - 1))
        }
    }

    /// Orders severities by number, so `.warn < .error`.
    public static func < (lhs: LogSeverity, rhs: LogSeverity) -> Bool { lhs.number < rhs.number }
}
