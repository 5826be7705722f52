import Foundation
import Otter
import Tracing

/// The search page: Jaeger's search form (service, operation from the store, logfmt tags, a lookback or a custom UTC
/// range, durations, limit), results sorted as asked, a duration-over-time scatter with axes whose dots open the
/// trace, and checkboxes to compare two results. `search-page.mjs` adds live updates and the two-result limit.
struct SearchPage {
    struct ResultRow {
        var traceID: String
        var rootName: String
        var rootService: String
        var services: [ServiceChip]
        var spanCount: Int
        var errorCount: Int
        var hasErrors: Bool
        var duration: String
        var start: String
        var x: Int
        var y: Int
        var radius: Int
    }

    struct ServiceChip {
        var name: String
        var color: String
        var spanCount: Int
    }

    struct AxisTick {
        var position: Int
        var label: String
    }

    static let sorts = [
        ("recent", "Most recent"), ("longest", "Longest first"), ("shortest", "Shortest first"), ("most-spans", "Most spans"),
        ("most-errors", "Most errors"),
    ]

    static let lookbacks: [(value: String, label: String, seconds: UInt64)] = [
        ("5m", "Last 5 minutes", 300), ("15m", "Last 15 minutes", 900), ("1h", "Last hour", 3600), ("6h", "Last 6 hours", 6 * 3600),
        ("24h", "Last 24 hours", 24 * 3600), ("48h", "Last 2 days", 48 * 3600), ("168h", "Last 7 days", 168 * 3600),
    ]

    var services: [FormOption] = []
    var operations: [FormOption] = []
    var tags = ""
    var lookbacks: [FormOption] = []
    var start = ""
    var end = ""
    var minDuration = ""
    var maxDuration = ""
    var limit = "20"
    var sorts: [FormOption] = []
    var live = false
    var message: String?
    var results: [ResultRow] = []
    var resultCount = ""
    var hasResults = false
    var searched = false
    var xTicks: [AxisTick] = []
    var yTicks: [AxisTick] = []

    init(_ form: QueryParameters, store: any TraceStore, nowNanoseconds: UInt64) async throws {
        let serviceNames = try await store.services()
        let colors = try await store.serviceColors()
        let service = form.get("service").flatMap { $0.isEmpty ? nil : $0 } ?? serviceNames.first ?? ""
        let operation = form.get("operation") ?? ""
        let lookback = form.get("lookback") ?? "1h"
        let sort = form.get("sort") ?? "recent"
        services = serviceNames.map { FormOption(value: $0, label: $0, selected: $0 == service) }
        var operationNames = service.isEmpty ? [] : Set(try await store.operations(service: service).map(\.name)).sorted()
        // An operation the service does not have (a link from elsewhere) stays selected, and finds nothing.
        if !operation.isEmpty, !operationNames.contains(operation) { operationNames.append(operation) }
        operations =
            [FormOption(value: "", label: "all", selected: operation.isEmpty)]
            + operationNames.map { FormOption(value: $0, label: $0, selected: $0 == operation) }
        tags = form.get("tags") ?? ""
        // A lookback from a Jaeger UI link (`2h`, `3d`) stays chosen: the form submits the same search again.
        let linkedLookback =
            lookback != "custom" && !Self.lookbacks.contains(where: { $0.value == lookback })
            && (try? Self.lookbackSeconds(lookback)) != nil
        lookbacks =
            Self.lookbacks.map { FormOption(value: $0.value, label: $0.label, selected: $0.value == lookback) }
            + (linkedLookback ? [FormOption(value: lookback, label: "Last \(lookback)", selected: true)] : [])
            + [FormOption(value: "custom", label: "Custom range (UTC)", selected: lookback == "custom")]
        let start = form.get("start") ?? ""
        let end = form.get("end") ?? ""
        // Jaeger UI's microseconds shown as the form's UTC minutes (a datetime-local field drops any other text).
        self.start = Self.formValue(start)
        self.end = Self.formValue(end)
        minDuration = form.get("minDuration") ?? ""
        maxDuration = form.get("maxDuration") ?? ""
        limit = form.get("limit") ?? "20"
        sorts = Self.sorts.map { FormOption(value: $0.0, label: $0.1, selected: $0.0 == sort) }
        live = form.get("live") == "1"
        searched = !service.isEmpty
        guard !service.isEmpty else {
            message = "No traces stored yet: send spans over OTLP to this viewer (OTLP/gRPC and OTLP/HTTP ports, printed when it started)."
            return
        }
        do {
            var query = TraceQuery(service: service, operation: operation.isEmpty ? nil : operation)
            if lookback == "custom" {
                query.startTimeMinimumNanoseconds = start.isEmpty ? 0 : try Self.instant("start", start, endOfMinute: false)
                query.startTimeMaximumNanoseconds = end.isEmpty ? nowNanoseconds : try Self.instant("end", end, endOfMinute: true)
                guard query.startTimeMinimumNanoseconds <= query.startTimeMaximumNanoseconds else {
                    throw InvalidParameter(name: "end", detail: "the range ends before it starts")
                }
            } else {
                let seconds = try Self.lookbackSeconds(lookback)
                let (lookbackNanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
                query.startTimeMinimumNanoseconds = overflow ? 0 : nowNanoseconds - min(nowNanoseconds, lookbackNanoseconds)
                query.startTimeMaximumNanoseconds = nowNanoseconds
            }
            if !limit.isEmpty { query.limit = try UntrustedValue.integer("limit", limit, in: 1...JaegerSearch.maximumLimit) }
            if !minDuration.isEmpty { query.durationMinimumNanoseconds = try UntrustedValue.duration("minDuration", minDuration) }
            if !maxDuration.isEmpty { query.durationMaximumNanoseconds = try UntrustedValue.duration("maxDuration", maxDuration) }
            query.tags = try Self.tags(tags)
            let summaries = Self.sorted(try await store.summaries(store.findTraceIDs(query)), by: sort)
            layOut(summaries, colors: colors)
        } catch let error as InvalidParameter {
            message = error.description
        }
    }

    static func sorted(_ summaries: [TraceSummary], by sort: String) -> [TraceSummary] {
        switch sort {
        case "longest": summaries.sorted { $0.durationNanoseconds > $1.durationNanoseconds }
        case "shortest": summaries.sorted { $0.durationNanoseconds < $1.durationNanoseconds }
        case "most-spans": summaries.sorted { $0.spanCount > $1.spanCount }
        case "most-errors": summaries.sorted { ($0.errorSpanCount, $0.startTimeNanoseconds) > ($1.errorSpanCount, $1.startTimeNanoseconds) }
        default: summaries.sorted { $0.startTimeNanoseconds > $1.startTimeNanoseconds }
        }
    }

    /// The scatter's geometry: x from the earliest to the latest start, y from 0 to the longest duration, in a
    /// 1000 × 200 view box with 70 px for the y labels, 30 px for the x labels and room for the largest dot.
    static let plot = (left: 85, right: 955, top: 14, bottom: 166)

    mutating func layOut(_ summaries: [TraceSummary], colors: [String: String]) {
        let earliest = summaries.map(\.startTimeNanoseconds).min() ?? 0
        let latest = max(summaries.map(\.startTimeNanoseconds).max() ?? 0, earliest + 1)
        let longest = max(summaries.map(\.durationNanoseconds).max() ?? 1, 1)
        let plot = Self.plot
        let width = Double(plot.right - plot.left)
        let height = Double(plot.bottom - plot.top)
        let mostSpans = max(summaries.map(\.spanCount).max() ?? 1, 1)
        results = summaries.map { summary in
            ResultRow(
                traceID: summary.traceID.hexString, rootName: summary.rootOperationName, rootService: summary.rootServiceName,
                services: summary.services.map { ServiceChip(name: $0.name, color: colors[$0.name] ?? "#999", spanCount: $0.spanCount) },
                spanCount: summary.spanCount, errorCount: summary.errorSpanCount, hasErrors: summary.errorSpanCount > 0,
                duration: TimestampFormatting.humanDuration(nanoseconds: summary.durationNanoseconds),
                start: TimestampFormatting.dateTime(nanosecondsSinceEpoch: summary.startTimeNanoseconds),
                x: plot.left + Int(Double(summary.startTimeNanoseconds - earliest) / Double(latest - earliest) * width),
                y: plot.bottom - Int(Double(summary.durationNanoseconds) / Double(longest) * height),
                radius: 3 + Int(6 * Double(summary.spanCount) / Double(mostSpans)))
        }
        hasResults = !results.isEmpty
        resultCount = results.count == 1 ? "1 trace" : "\(results.count) traces"
        xTicks = (0...4).map { step in
            let time = earliest + (latest - earliest) / 4 * UInt64(step)
            let text = TimestampFormatting.dateTime(nanosecondsSinceEpoch: time)
            // `HH:MM:SS` of `YYYY-MM-DD HH:MM:SS.mmm UTC`.
            return AxisTick(position: plot.left + Int(width / 4 * Double(step)), label: String(text.dropFirst(11).prefix(8)))
        }
        yTicks = (0...4).map { step in
            AxisTick(
                position: plot.bottom - Int(height / 4 * Double(step)),
                label: TimestampFormatting.humanDuration(nanoseconds: longest / 4 * UInt64(step)))
        }
    }

    /// A lookback as Jaeger UI writes it (`5m`, `2h`, `2d`, `1w`), in seconds.
    static func lookbackSeconds(_ text: String) throws -> UInt64 {
        if let known = lookbacks.first(where: { $0.value == text }) { return known.seconds }
        let units: [Character: UInt64] = ["m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        // At most 100 years: the nanoseconds of any accepted lookback fit in 64 bits.
        guard let unit = text.last.flatMap({ units[$0] }), let count = UInt64(text.dropLast()), count > 0, count <= 3_155_760_000 / unit
        else {
            throw InvalidParameter(
                name: "lookback", detail: "\(UntrustedValue.quoted(String(text.prefix(40)))) is not a lookback such as 30m, 2h or 7d")
        }
        return count * unit
    }

    /// Tags in logfmt (`error=true note="with spaces"`), or as the JSON object Jaeger UI puts in its URLs
    /// (`{"http.status_code":"500"}`).
    static func tags(_ text: String) throws -> [(key: String, value: String)] {
        guard text.trimmingCharacters(in: .whitespaces).hasPrefix("{") else { return try LogfmtTags.parse(text) }
        do {
            return try JSONTags.pairs(text)
        } catch .notAnObject {
            throw InvalidParameter(name: "tags", detail: "malformed tags: not a JSON object of strings")
        } catch .notText(let key) {
            throw InvalidParameter(name: "tags", detail: "malformed tags: the value of \(key.prefix(80)) is not a string")
        }
    }

    /// A custom range's bound as the form's `datetime-local` field shows it: microseconds become `YYYY-MM-DDTHH:MM` (UTC);
    /// anything else is shown as given.
    static func formValue(_ text: String) -> String {
        guard !text.isEmpty, text.allSatisfy(\.isNumber),
            let nanoseconds = try? UntrustedValue.timestamp("start", text, unitNanoseconds: 1_000)
        else { return text }
        return String(TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: nanoseconds).prefix(16))
    }

    /// A custom range's bound: microseconds since the epoch (Jaeger UI's `start` and `end`), or `YYYY-MM-DDTHH:MM`
    /// (the form's `datetime-local`) read as UTC, the end of that minute for `end`.
    static func instant(_ name: String, _ text: String, endOfMinute: Bool) throws -> UInt64 {
        if text.allSatisfy(\.isNumber) { return try UntrustedValue.timestamp(name, text, unitNanoseconds: 1_000) }
        return try utcMinute(name, text) + (endOfMinute ? 59_999_999_999 : 0)
    }

    /// `YYYY-MM-DDTHH:MM` (an HTML `datetime-local` value; seconds are not accepted), read as UTC, in nanoseconds since
    /// the epoch.
    static func utcMinute(_ name: String, _ text: String) throws -> UInt64 {
        let invalid = InvalidParameter(name: name, detail: "\(UntrustedValue.quoted(String(text.prefix(40)))) is not YYYY-MM-DDTHH:MM")
        let parts = text.split(whereSeparator: { "-T:".contains($0) }).map { Int($0) }
        guard parts.count == 5, let year = parts[0], let month = parts[1], let day = parts[2],
            let hour = parts[3], let minute = parts[4], (1970...2262).contains(year), (1...12).contains(month), (1...31).contains(day),
            (0...23).contains(hour), (0...59).contains(minute)
        else { throw invalid }
        let days = TimestampFormatting.daysSinceEpoch(year: year, month: month, day: day)
        // 31 February is not a day: converting back must give the same date.
        guard TimestampFormatting.civilDate(daysSinceEpoch: Int64(days)) == (year, month, day) else { throw invalid }
        return (UInt64(days) * 86_400 + UInt64(hour) * 3600 + UInt64(minute) * 60) * 1_000_000_000
    }
}
