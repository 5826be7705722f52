import Otter
import OtterOTLP
import Tracing

/// The Logs page: stored log records found by service, minimum severity, words, logfmt tags, trace id and lookback,
/// newest first, each with a link to its trace (the span highlighted). The form's values are read as
/// `/api/otter/logs` reads them (``LogsAPI/parse(_:nowNanoseconds:)``), so a bad value shows that API's message.
/// `logs-page.mjs` adds the live tail: it polls the API for records newer than the newest shown.
struct LogsPage {
    struct Row {
        var time: String
        var timeNanoseconds: String
        var severity: String
        var severityClass: String
        var service: String
        var body: String
        var attributes: [TracePage.KeyValue]
        var traceID: String?
        var traceLink: String?
        /// What the live tail compares to leave out records it already shows.
        var key: String
    }

    static let severities = [
        ("", "any"), ("trace", "trace"), ("debug", "debug"), ("info", "info"), ("warn", "warn"), ("error", "error"),
        ("fatal", "fatal"),
    ]

    /// Go durations, as `/api/otter/logs` reads `lookback`; `all` is any time.
    static let lookbacks = [
        ("5m", "Last 5 minutes"), ("15m", "Last 15 minutes"), ("1h", "Last hour"), ("6h", "Last 6 hours"), ("24h", "Last 24 hours"),
        ("48h", "Last 2 days"), ("168h", "Last 7 days"), ("all", "Any time"),
    ]

    /// The parameters of the form that `/api/otter/logs` reads as they are.
    static let passedOn = ["service", "minSeverity", "query", "tags", "traceID", "limit", "start", "end"]

    var services: [FormOption] = []
    var severities: [FormOption] = []
    var lookbacks: [FormOption] = []
    var query = ""
    var tags = ""
    var traceID = ""
    var limit = String(LogsAPI.defaultLimit)
    var tail = false
    var message: String?
    var hint: String?
    var rows: [Row] = []
    var hasRows = false
    var resultCount = ""
    /// The query string of the search without its time and limit (percent-encoded), for the live tail's requests.
    var apiQuery = ""
    /// The store's arrival cursor when the search ran: the live tail asks for the records stored after it.
    var cursor = "0"

    init(_ form: QueryParameters, store: any LogStore, nowNanoseconds: UInt64) async throws {
        let serviceNames = try await store.logServices()
        let service = form.get("service") ?? ""
        let severity = form.get("minSeverity") ?? ""
        // A trace's records are found whenever they were written.
        let lookback = form.get("lookback") ?? (form.first("traceID") == nil ? "1h" : "all")
        var names = serviceNames
        // A service that sent no records (a link from elsewhere) stays selected, and finds nothing.
        if !service.isEmpty, !names.contains(service) { names.append(service) }
        services =
            [FormOption(value: "", label: "all services", selected: service.isEmpty)]
            + names.map { FormOption(value: $0, label: $0, selected: $0 == service) }
        var severityChoices = Self.severities
        if !severity.isEmpty, !severityChoices.contains(where: { $0.0 == severity }) { severityChoices.append((severity, severity)) }
        severities = severityChoices.map { FormOption(value: $0.0, label: $0.1, selected: $0.0 == severity) }
        var lookbackChoices = Self.lookbacks
        if !lookbackChoices.contains(where: { $0.0 == lookback }) { lookbackChoices.append((lookback, lookback)) }
        lookbacks = lookbackChoices.map { FormOption(value: $0.0, label: $0.1, selected: $0.0 == lookback) }
        query = form.get("query") ?? ""
        tags = form.get("tags") ?? ""
        traceID = form.get("traceID") ?? ""
        limit = form.get("limit") ?? limit
        tail = form.get("tail") == "1"

        // Empty fields are left out: the API reads `service=` as the service named "".
        var pairs = Self.passedOn.compactMap { name in form.first(name).map { (name, $0) } }
        apiQuery = pairs.filter { !["start", "end", "limit"].contains($0.0) }.map { "\($0.0)=\(ViewerUI.queryValue($0.1))" }.joined(
            separator: "&")
        if form.first("start") == nil {
            if lookback == "all" {
                pairs.append(("start", "0"))
            } else if !lookback.isEmpty {
                pairs.append(("lookback", lookback))
            }
        }
        let parameters = QueryParameters(pairs.map { "\($0.0)=\(ViewerUI.queryValue($0.1))" }.joined(separator: "&"))
        let logQuery: LogQuery
        do {
            logQuery = try LogsAPI.parse(parameters, nowNanoseconds: nowNanoseconds)
        } catch let error as InvalidParameter {
            message = error.description
            return
        }
        cursor = String(try await store.logCursor())
        rows = Self.rows(try await store.logs(logQuery))
        hasRows = !rows.isEmpty
        resultCount = rows.count == 1 ? "1 record" : "\(rows.count) records"
        if rows.isEmpty, serviceNames.isEmpty {
            hint = "No log records stored yet: send them over OTLP to this viewer (/v1/logs on its OTLP/HTTP port, or OTLP/gRPC)."
        }
    }

    /// The records in the order the store gives them (newest first).
    static func rows(_ logs: OTLPLogs) -> [Row] {
        var rows: [Row] = []
        OTLPLogsMapping.forEachRecord(in: logs.request) { otlp, resource, _, _ in
            let time = otlp.timeUnixNano != 0 ? otlp.timeUnixNano : otlp.observedTimeUnixNano
            let severity = LogSeverity(number: otlp.severityNumber.rawValue)
            let traceID = TraceID(bytes: otlp.traceID).flatMap { $0.isValid ? $0.hexString : nil }
            let spanID = SpanID(bytes: otlp.spanID).flatMap { $0.isValid ? $0.hexString : nil }
            var attributes: [TracePage.KeyValue] = []
            for keyValue in otlp.attributes.sorted(by: { $0.key < $1.key }) {
                attributes.append(TracePage.KeyValue(key: keyValue.key, value: OTLPLogsMapping.bodyText(keyValue.value)))
            }
            rows.append(
                Row(
                    time: TimestampFormatting.dateTime(nanosecondsSinceEpoch: time), timeNanoseconds: String(time),
                    severity: otlp.severityText.isEmpty ? severity.name : otlp.severityText,
                    severityClass: Self.severityClass(severity.number),
                    service: resource.serviceName ?? "",
                    body: OTLPLogsMapping.bodyText(otlp.body), attributes: attributes, traceID: traceID,
                    traceLink: traceID.map { "/trace/\($0)" + (spanID.map { "?span=\($0)" } ?? "") },
                    key: "\(time)|\(traceID ?? "")|\(spanID ?? "")|\(severity.number)|\(Self.keyText(OTLPLogsMapping.bodyText(otlp.body)))")
            )
        }
        return rows
    }

    /// The body's part of a record's key: its first 200 Unicode scalars, as `logs.mjs` takes them from the same text.
    static func keyText(_ body: String) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: body.unicodeScalars.prefix(200))
        return String(scalars)
    }

    /// The CSS class of a severity number: `error` from ERROR (17) up, `warn` for WARN (13 to 16).
    static func severityClass(_ number: Int) -> String {
        number >= 17 ? "severity-error" : number >= 13 ? "severity-warn" : "severity"
    }
}
