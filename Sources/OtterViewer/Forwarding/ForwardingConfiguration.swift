import Foundation
import OtterOTLP

/// Where the viewer sends on what it stores (``Viewer/Configuration/forwarding``): an upstream OTLP receiver (an
/// OpenTelemetry Collector, Jaeger, Tempo, another viewer), optionally only the traces that match a filter.
public struct ForwardingConfiguration: Sendable {
    /// Which traces are forwarded, in the words of the Collector's tail-sampling processor. A trace is forwarded when
    /// any filter matches it; with no filter, everything is.
    public enum Filter: Sendable, Equatable, CustomStringConvertible {
        /// A span of the trace has status error.
        case errors
        /// The trace (first span start to last span end) lasts longer than this.
        case slowerThan(Duration)

        /// `errors`, or `slower-than=` followed by the duration, for logs and the status page.
        public var description: String {
            switch self {
            case .errors: "errors"
            case .slowerThan(let duration): "slower-than=\(duration)"
            }
        }
    }

    /// The upstream receiver and how to reach it. For OTLP/HTTP `endpoint` is the base URL (`/v1/traces` and
    /// `/v1/logs` are appended, as for `OTEL_EXPORTER_OTLP_ENDPOINT`); for OTLP/gRPC the server's
    /// `http(s)://host:port`. Its timeout bounds one attempt with its retries; beyond it, forwarding waits and tries
    /// the same data again, for as long as it takes.
    public var upstream: OTLPExporterConfiguration
    /// Which traces are forwarded: those any filter matches; empty (the default) forwards every span and log record.
    public var filters: [Filter]
    /// With filters: how long after a span is stored its trace is decided (the Collector's `decision_wait`), so the
    /// spans that arrive after it are part of the decision.
    public var decisionWait: Duration
    /// The largest request sent upstream (requests are whole stored blocks; one block larger than this goes alone).
    /// 3 MB stays within gRPC's default 4 MiB message limit.
    public var maximumRequestBytes: Int

    /// Forwards to `upstream`; by default everything, waiting 10 seconds before deciding about a trace when there are
    /// filters, in requests of at most 3 MB.
    public init(
        upstream: OTLPExporterConfiguration, filters: [Filter] = [], decisionWait: Duration = .seconds(10),
        maximumRequestBytes: Int = 3 << 20
    ) {
        self.upstream = upstream
        self.filters = filters
        self.decisionWait = decisionWait
        self.maximumRequestBytes = maximumRequestBytes
    }

    /// The upstream's URL as logs and the status page show it: a user name and password in it are replaced by `***`.
    public var upstreamDescription: String {
        guard var components = URLComponents(url: upstream.endpoint, resolvingAgainstBaseURL: false),
            components.user != nil || components.password != nil
        else { return upstream.endpoint.absoluteString }
        components.user = "***"
        components.password = nil
        return components.string ?? "(a URL with credentials)"
    }

    /// `errors` or `slower-than=500ms` (a Go duration), as `--forward-only` takes them.
    public static func filter(_ text: String) throws -> Filter {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "errors" { return .errors }
        if trimmed.hasPrefix("slower-than=") {
            let value = String(trimmed.dropFirst("slower-than=".count))
            let nanoseconds = try UntrustedValue.duration("--forward-only slower-than", value)
            return .slowerThan(.nanoseconds(Int64(clamping: nanoseconds)))
        }
        throw InvalidParameter(
            name: "--forward-only", detail: "\(UntrustedValue.quoted(String(trimmed.prefix(80)))) is not errors or slower-than=DURATION")
    }
}
