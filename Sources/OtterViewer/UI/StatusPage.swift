/// `/status`: what forwarding has done, per signal (the same figures as `/api/otter/status`).
struct StatusPage {
    static let template = """
        <h2>Status</h2>
        {{^forwarding}}<p>This viewer forwards nothing. Started with <code>--forward URL</code>, it sends every span and log
        record it stores on to an OpenTelemetry Collector, Jaeger, Tempo or another viewer.</p>{{/forwarding}}
        {{#forwarding}}<p>Forwarding to <b>{{upstream}}</b> over {{protocol}}{{#filters}} · only traces with {{.}}{{/filters}}.</p>
        <table class="statistics" id="forwarding-status"><thead><tr><th></th><th>Queued</th><th>Sent</th><th>Retries</th><th>Dropped</th>
        <th>Rejected</th><th>Filtered out</th><th>Lost</th><th>Last sent</th><th>Last error</th></tr></thead><tbody>
        {{#signals}}<tr><td>{{name}}</td><td>{{queued}}</td><td>{{sent}}</td><td>{{retries}}</td><td>{{dropped}}</td><td>{{rejected}}</td>
        <td>{{filteredOut}}</td><td>{{lost}}</td><td>{{lastSentAt}}</td><td>{{lastError}}{{#lastErrorAt}} ({{lastErrorAt}}){{/lastErrorAt}}</td></tr>{{/signals}}
        </tbody></table>
        <p class="muted">Queued: stored, not yet acknowledged upstream. Dropped: refused by upstream for good. Rejected: refused in
        a partial success. Lost: deleted by retention or the size bound before it was sent. The same as JSON:
        <a href="/api/otter/status">/api/otter/status</a>.</p>{{/forwarding}}
        """

    var forwarding: [String: Any]?

    init(_ report: JSONValue) {
        guard let forwarding = report["forwarding"], forwarding != .null else { return }
        func text(_ value: JSONValue?) -> String {
            switch value {
            case .string(let string)?: string
            case .integer(let integer)?: String(integer)
            case .null?, nil: ""
            case let other?: other.text
            }
        }
        let signals = ["spans", "logs"].map { name -> [String: String] in
            var row = ["name": name == "spans" ? "Spans" : "Log records"]
            for key in [
                "queued", "sent", "retries", "dropped", "rejected", "filteredOut", "lost", "lastSentAt", "lastError", "lastErrorAt",
            ] {
                // An empty value is left out, so a section on it (`{{#lastErrorAt}}`) is not shown.
                let value = text(forwarding[name]?[key])
                if !value.isEmpty { row[key] = value }
            }
            return row
        }
        let filters = (forwarding["filters"]?.arrayValue ?? []).map { text($0) }.joined(separator: " or ")
        var shown: [String: Any] = [
            "upstream": text(forwarding["upstream"]), "protocol": text(forwarding["protocol"]), "signals": signals,
        ]
        // Absent without filters: a section on an empty string would still be shown.
        if !filters.isEmpty { shown["filters"] = filters }
        self.forwarding = shown
    }
}
