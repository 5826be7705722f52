/// `/status`: what forwarding has done, per signal (the same figures as `/api/otter/status`).
struct StatusPage {
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
