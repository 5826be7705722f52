import Foundation
import Otter

/// Where and how an OTLP exporter sends spans, from code or from the `OTEL_EXPORTER_OTLP_*` environment.
public struct OTLPExporterConfiguration: Sendable {
    /// The OTLP transport and encoding (`OTEL_EXPORTER_OTLP_PROTOCOL`).
    public enum TransportProtocol: String, Sendable, CaseIterable {
        case grpc
        case httpProtobuf = "http/protobuf"
        case httpJSON = "http/json"
    }

    /// How request bodies (HTTP) or messages (gRPC) are compressed: `OTEL_EXPORTER_OTLP_COMPRESSION`.
    public enum Compression: String, Sendable, CaseIterable {
        case none
        case gzip
    }

    /// For HTTP, the full URL spans are POSTed to (`.../v1/traces`); for gRPC, the server's `http(s)://host:port`.
    public var endpoint: URL
    /// OTLP/gRPC, OTLP/HTTP with protobuf bodies, or OTLP/HTTP with JSON bodies (`OTEL_EXPORTER_OTLP_PROTOCOL`).
    public var transportProtocol: TransportProtocol
    /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. an authorization token.
    public var headers: [(name: String, value: String)]
    /// Compression of what is sent (`OTEL_EXPORTER_OTLP_COMPRESSION`); none by default.
    public var compression: Compression
    /// Bound on one export including its retries (`OTEL_EXPORTER_OTLP_TIMEOUT`, default 10 s).
    public var timeout: Duration
    /// How transient failures (HTTP 429/502/503/504, gRPC UNAVAILABLE and the like) are retried within ``timeout``.
    public var retryPolicy: OTLPRetryPolicy

    /// A configuration for `endpoint` (see ``endpoint`` for what the URL means per protocol).
    public init(
        endpoint: URL,
        transportProtocol: TransportProtocol = .httpProtobuf,
        headers: [(name: String, value: String)] = [],
        compression: Compression = .none,
        timeout: Duration = .seconds(10),
        retryPolicy: OTLPRetryPolicy = OTLPRetryPolicy()
    ) {
        self.endpoint = endpoint
        self.transportProtocol = transportProtocol
        self.headers = headers
        self.compression = compression
        self.timeout = timeout
        self.retryPolicy = retryPolicy
    }

    /// The default OTLP/HTTP traces URL. The specification says `localhost`; Otter uses the loopback address
    /// itself so a viewer bound to 127.0.0.1 is reached even where `localhost` resolves to ::1 first.
    public static let defaultHTTPEndpoint = URL(string: "http://127.0.0.1:4318/v1/traces")!
    /// The default OTLP/gRPC endpoint: the loopback address on port 4317, for the same reason.
    public static let defaultGRPCEndpoint = URL(string: "http://127.0.0.1:4317")!

    /// Reads `OTEL_EXPORTER_OTLP_{,TRACES_ or LOGS_}{ENDPOINT,PROTOCOL,HEADERS,COMPRESSION,TIMEOUT}` for `signal`; the per-signal
    /// variables win. `defaultProtocol` applies when no protocol variable is set (`http/protobuf` per the
    /// specification). A value that cannot be used is an error naming the variable.
    public static func fromEnvironment(
        _ environment: [String: String], signal: OTLPSignal = .traces, defaultProtocol: TransportProtocol = .httpProtobuf
    ) throws(ConfigurationError) -> OTLPExporterConfiguration {
        let signalEndpointVariable = "OTEL_EXPORTER_OTLP_\(signal.variableInfix)_ENDPOINT"
        func value(_ suffix: String) -> (name: String, value: String)? {
            for name in ["OTEL_EXPORTER_OTLP_\(signal.variableInfix)_\(suffix)", "OTEL_EXPORTER_OTLP_\(suffix)"] {
                if let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty { return (name, raw) }
            }
            return nil
        }

        var transportProtocol = defaultProtocol
        if let (name, raw) = value("PROTOCOL") {
            guard let parsed = TransportProtocol(rawValue: raw.lowercased()) else {
                throw .invalidValue(variable: name, value: raw, expected: "grpc, http/protobuf or http/json")
            }
            transportProtocol = parsed
        }

        var insecure = false
        if let (name, raw) = value("INSECURE") {
            switch raw.lowercased() {
            case "true": insecure = true
            case "false": insecure = false
            default: throw .invalidValue(variable: name, value: raw, expected: "true or false")
            }
        }
        /// gRPC endpoints may omit the scheme; `OTEL_EXPORTER_OTLP_INSECURE` then chooses plaintext over TLS.
        func withScheme(_ raw: String) -> String {
            guard transportProtocol == .grpc, !raw.contains("://") else { return raw }
            return (insecure ? "http://" : "https://") + raw
        }

        var endpoint = transportProtocol == .grpc ? defaultGRPCEndpoint : URL(string: "http://127.0.0.1:4318/\(signal.httpPath)")!
        if let raw = environment[signalEndpointVariable]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            endpoint = try parseURL(withScheme(raw), variable: signalEndpointVariable)
            if transportProtocol != .grpc, endpoint.path.isEmpty { endpoint = endpoint.appendingPathComponent("") }
        } else if let raw = environment["OTEL_EXPORTER_OTLP_ENDPOINT"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            let base = try parseURL(withScheme(raw), variable: "OTEL_EXPORTER_OTLP_ENDPOINT")
            if transportProtocol == .grpc {
                endpoint = base
            } else {
                var text = base.absoluteString
                if !text.hasSuffix("/") { text += "/" }
                endpoint = URL(string: text + signal.httpPath)!
            }
        }

        var headers: [(name: String, value: String)] = []
        if let (name, raw) = value("HEADERS") {
            for member in raw.split(separator: ",") {
                let parts = member.split(separator: "=", maxSplits: 1)
                guard parts.count == 2,
                    let key = String(parts[0]).trimmingCharacters(in: .whitespaces).removingPercentEncoding, !key.isEmpty,
                    let headerValue = String(parts[1]).trimmingCharacters(in: .whitespaces).removingPercentEncoding
                else {
                    throw .invalidValue(variable: name, value: raw, expected: "key=value pairs separated by commas")
                }
                headers.append((key, headerValue))
            }
        }

        var compression = Compression.none
        if let (name, raw) = value("COMPRESSION") {
            guard let parsed = Compression(rawValue: raw.lowercased()) else {
                throw .invalidValue(variable: name, value: raw, expected: "gzip or none")
            }
            compression = parsed
        }

        var timeout = Duration.seconds(10)
        if let (name, raw) = value("TIMEOUT") {
            guard let milliseconds = Int(raw), milliseconds > 0 else {
                throw .invalidValue(variable: name, value: raw, expected: "a positive number of milliseconds")
            }
            timeout = .milliseconds(milliseconds)
        }

        return OTLPExporterConfiguration(
            endpoint: endpoint, transportProtocol: transportProtocol, headers: headers, compression: compression,
            timeout: timeout)
    }

    private static func parseURL(_ raw: String, variable: String) throws(ConfigurationError) -> URL {
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host != nil
        else {
            throw .invalidValue(variable: variable, value: raw, expected: "an http:// or https:// URL")
        }
        return url
    }
}

/// Retries of transient failures, as the OTLP specification asks: exponential backoff with random jitter,
/// `Retry-After` honoured, everything bounded by the export timeout.
public struct OTLPRetryPolicy: Sendable, Hashable {
    /// Attempts per export, the first included: 1 never retries.
    public var maximumAttempts: Int
    /// The delay before the first retry (unless the server says how long to wait).
    public var initialBackoff: Duration
    /// The longest delay between two attempts.
    public var maximumBackoff: Duration
    /// Each delay is the previous one times this, up to ``maximumBackoff``.
    public var backoffMultiplier: Double
    /// Each delay is scaled by a random factor in `1 ± jitter`.
    public var jitter: Double

    /// A policy; the defaults retry up to 5 times, waiting 1, 2, 4, 8 and 16 s (each ± 20 %).
    public init(
        maximumAttempts: Int = 6,
        initialBackoff: Duration = .seconds(1),
        maximumBackoff: Duration = .seconds(30),
        backoffMultiplier: Double = 2,
        jitter: Double = 0.2
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.backoffMultiplier = backoffMultiplier
        self.jitter = jitter
    }

    /// The delay before retry number `retry` (1 for the first retry).
    public func backoff(beforeRetry retry: Int) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(retry, 1) { delay = min(delay * backoffMultiplier, maximumBackoff) }
        let factor = Double.random(in: (1 - jitter)...(1 + jitter))
        return min(delay * factor, maximumBackoff)
    }
}

extension Otter {
    /// Makes OTLP exporters for `OTEL_TRACES_EXPORTER=otlp` and `EXPORTER=jaeger`.
    /// Pass it to ``Otter/bootstrap(_:bootstrapsLogging:alsoLogTo:)``.
    public static let otlpExporterFactory: ExporterFactory = { kind, configuration in
        switch kind {
        case .otlp, .jaeger:
            // EXPORTER=jaeger means Jaeger's OTLP/gRPC port, 4317, unless OTEL_EXPORTER_OTLP_* say otherwise.
            let exporterConfiguration = try OTLPExporterConfiguration.fromEnvironment(
                configuration.environment, defaultProtocol: kind == .jaeger ? .grpc : .httpProtobuf)
            return try OTLPExporters.make(configuration: exporterConfiguration)
        case .console, .none:
            return nil
        }
    }

    /// Makes OTLP log record exporters for `OTEL_LOGS_EXPORTER=otlp` (or logs following `EXPORTER=otlp|jaeger`),
    /// from `OTEL_EXPORTER_OTLP_LOGS_*` and `OTEL_EXPORTER_OTLP_*`, over OTLP/HTTP (protobuf or JSON) or OTLP/gRPC.
    public static let otlpLogExporterFactory: LogExporterFactory = { kind, configuration in
        switch kind {
        case .otlp, .jaeger:
            let exporterConfiguration = try OTLPExporterConfiguration.fromEnvironment(
                configuration.environment, signal: .logs, defaultProtocol: kind == .jaeger ? .grpc : .httpProtobuf)
            switch exporterConfiguration.transportProtocol {
            case .httpProtobuf, .httpJSON: return OTLPHTTPLogExporter(configuration: exporterConfiguration)
            case .grpc: return try OTLPGRPCLogExporter(configuration: exporterConfiguration)
            }
        case .console, .none:
            return nil
        }
    }
}

/// Builds the exporter that a configuration names.
public enum OTLPExporters {
    /// The OTLP/HTTP exporter for the HTTP protocols, the OTLP/gRPC exporter for gRPC; throws when the configuration
    /// cannot be used (an endpoint the protocol cannot reach).
    public static func make(configuration: OTLPExporterConfiguration) throws(ConfigurationError) -> any SpanExporter {
        switch configuration.transportProtocol {
        case .httpProtobuf, .httpJSON:
            return OTLPHTTPExporter(configuration: configuration)
        case .grpc:
            return try OTLPGRPCExporter(configuration: configuration)
        }
    }
}

/// The telemetry an OTLP exporter sends: it picks the signal's environment variables
/// (`OTEL_EXPORTER_OTLP_TRACES_*`, `OTEL_EXPORTER_OTLP_LOGS_*`) and the path appended to a base endpoint.
public enum OTLPSignal: String, Sendable, CaseIterable {
    case traces
    case logs

    /// `TRACES` or `LOGS`, as in `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`.
    var variableInfix: String { rawValue.uppercased() }

    /// `v1/traces` or `v1/logs`.
    public var httpPath: String { "v1/\(rawValue)" }
}
