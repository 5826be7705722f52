import Tracing

/// Everything the SDK reads from the environment, per the OpenTelemetry SDK environment specification, plus
/// the `EXPORTER=console|jaeger|otlp` switch and `OTTER_CONSOLE_STYLE=line|json|tree`.
public struct OtterConfiguration: Sendable {
    /// A destination named by `OTEL_TRACES_EXPORTER` or `EXPORTER`.
    public enum ExporterKind: String, Sendable, Hashable, CaseIterable {
        case console
        case otlp
        /// `EXPORTER=jaeger`: OTLP/gRPC to localhost:4317 unless `OTEL_EXPORTER_OTLP_*` says otherwise.
        case jaeger
        case none
    }

    /// `OTEL_SDK_DISABLED=true`: spans are neither recorded nor exported.
    public var isSDKDisabled: Bool
    /// The resource from `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`, on top of what is detected about the process.
    public var resource: Resource
    /// The sampler `OTEL_TRACES_SAMPLER` (and `OTEL_TRACES_SAMPLER_ARG`, a ratio) names; `parentbased_always_on` when
    /// unset or unusable.
    public var sampler: any Sampler
    /// Where spans go: `OTEL_TRACES_EXPORTER` (a comma-separated list) or `EXPORTER`, else the `defaultExporters`
    /// given to ``fromEnvironment(_:defaultExporters:)``. `none` exports nothing.
    public var exporters: [ExporterKind]
    /// The propagators `OTEL_PROPAGATORS` lists (`tracecontext`, `baggage`, `b3`, `b3multi`, `none`), in order; W3C
    /// Trace Context and Baggage when unset.
    public var propagator: any TextMapPropagator
    /// The batch span processor's settings (`OTEL_BSP_*`, in milliseconds where a duration).
    public var batchProcessor: BatchSpanProcessor.Configuration
    /// The span limits (`OTEL_SPAN_*_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`, with
    /// `OTEL_ATTRIBUTE_*_LIMIT` as the fallback for span attributes).
    public var limits: SpanLimits
    /// Where log records go: `OTEL_LOGS_EXPORTER` (`console`, `otlp`, `none`); unset, they go where spans go (the
    /// trace exporters: `EXPORTER=console|otlp` sends both), except to `jaeger`, which stores no logs.
    public var logExporters: [ExporterKind]
    /// The batch log record processor's settings (`OTEL_BLRP_*`; a 1 s schedule delay by default).
    public var logBatchProcessor: BatchExportConfiguration
    /// `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT` (else `OTEL_ATTRIBUTE_COUNT_LIMIT`, else 128).
    public var logRecordAttributeCountLimit: Int
    /// `OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT` (else `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`); nil: no limit.
    public var logRecordAttributeValueLengthLimit: Int?
    /// How the console span exporter prints: `OTTER_CONSOLE_STYLE` (`line`, `json` or `tree`), `line` when unset. The
    /// console log exporter prints JSON for `json` and lines otherwise.
    public var consoleStyle: ConsoleSpanExporter.Style
    /// The environment read, for exporters that read their own variables (`OTEL_EXPORTER_OTLP_*`).
    public var environment: [String: String]
    /// Values that could not be used and were replaced by their defaults, one message each naming the variable
    /// (the OpenTelemetry specification: warn and fall back). ``Otter/makeService(_:)`` logs them.
    public var warnings: [String] = []

    /// Reads the configuration. `defaultExporters` applies when neither `OTEL_TRACES_EXPORTER` nor `EXPORTER`
    /// is set. A sampler, flag, number, propagator or console style it cannot use is a warning in ``warnings`` and
    /// the default applies, as the OpenTelemetry specification asks; an exporter choice or resource attribute it
    /// cannot use throws, naming the variable (spans would otherwise go somewhere the user did not ask for).
    public static func fromEnvironment(
        _ environment: [String: String],
        defaultExporters: [ExporterKind] = [.otlp]
    ) throws(ConfigurationError) -> OtterConfiguration {
        let reader = EnvironmentReader(environment: environment)
        let sampler = parseSampler(reader)
        let exporters = try parseExporters(reader) ?? defaultExporters
        var configuration = OtterConfiguration(
            isSDKDisabled: reader.bool("OTEL_SDK_DISABLED") ?? false,
            resource: try Resource.fromEnvironment(environment),
            sampler: sampler,
            exporters: exporters,
            propagator: parsePropagators(reader),
            batchProcessor: parseBatchProcessor(reader, prefix: "OTEL_BSP", defaults: BatchExportConfiguration()),
            limits: parseLimits(reader),
            logExporters: try reader.list("OTEL_LOGS_EXPORTER", of: ExporterKind.self)
                ?? exporters.map { $0 == .jaeger ? .none : $0 },
            logBatchProcessor: parseBatchProcessor(reader, prefix: "OTEL_BLRP", defaults: .logRecordDefaults),
            logRecordAttributeCountLimit: reader.integer("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", minimum: 0)
                ?? reader.integer("OTEL_ATTRIBUTE_COUNT_LIMIT", minimum: 0) ?? 128,
            logRecordAttributeValueLengthLimit: reader.integer("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", minimum: 0)
                ?? reader.integer("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", minimum: 0),
            consoleStyle: reader.choice("OTTER_CONSOLE_STYLE", from: ConsoleSpanExporter.Style.self, default: .line),
            environment: environment)
        configuration.warnings = reader.warnings
        return configuration
    }

    private static func parseSampler(_ reader: EnvironmentReader) -> any Sampler {
        let name = reader.string("OTEL_TRACES_SAMPLER")?.lowercased() ?? "parentbased_always_on"
        func ratio() -> Double {
            guard let raw = reader.string("OTEL_TRACES_SAMPLER_ARG") else { return 1.0 }
            guard let value = Double(raw), (0...1).contains(value) else {
                reader.warn(.invalidValue(variable: "OTEL_TRACES_SAMPLER_ARG", value: raw, expected: "a number from 0 to 1"), using: "1.0")
                return 1.0
            }
            return value
        }
        switch name {
        case "always_on": return AlwaysOnSampler()
        case "always_off": return AlwaysOffSampler()
        case "traceidratio": return TraceIDRatioBasedSampler(ratio: ratio())
        case "parentbased_always_on": return ParentBasedSampler(root: AlwaysOnSampler())
        case "parentbased_always_off": return ParentBasedSampler(root: AlwaysOffSampler())
        case "parentbased_traceidratio": return ParentBasedSampler(root: TraceIDRatioBasedSampler(ratio: ratio()))
        default:
            reader.warn(
                .invalidValue(
                    variable: "OTEL_TRACES_SAMPLER", value: name,
                    expected: "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off "
                        + "or parentbased_traceidratio"),
                using: "parentbased_always_on")
            return ParentBasedSampler(root: AlwaysOnSampler())
        }
    }

    private static func parseExporters(_ reader: EnvironmentReader) throws(ConfigurationError) -> [ExporterKind]? {
        let standard = try reader.list("OTEL_TRACES_EXPORTER", of: ExporterKind.self)
        let seed = try reader.exactChoice("EXPORTER", from: ExporterKind.self)
        switch (standard, seed) {
        case (nil, nil): return nil
        case (let standard?, nil): return standard
        case (nil, let seed?): return [seed]
        case (let standard?, let seed?):
            guard standard == [seed] else {
                throw .conflictingValues(
                    first: "OTEL_TRACES_EXPORTER=\(reader.string("OTEL_TRACES_EXPORTER") ?? "")",
                    second: "EXPORTER=\(seed.rawValue)", reason: "set one of them")
            }
            return standard
        }
    }

    private static func parsePropagators(_ reader: EnvironmentReader) -> any TextMapPropagator {
        guard let raw = reader.string("OTEL_PROPAGATORS") else {
            return CompositePropagator([W3CTraceContextPropagator(), W3CBaggagePropagator()])
        }
        var propagators: [any TextMapPropagator] = []
        for name in raw.split(separator: ",").map({ $0.trimmingOptionalWhiteSpace().lowercased() }) {
            switch name {
            case "tracecontext": propagators.append(W3CTraceContextPropagator())
            case "baggage": propagators.append(W3CBaggagePropagator())
            case "b3": propagators.append(B3Propagator(encoding: .singleHeader))
            case "b3multi": propagators.append(B3Propagator(encoding: .multipleHeaders))
            case "none": return CompositePropagator([])
            default:
                reader.warn(
                    .invalidValue(
                        variable: "OTEL_PROPAGATORS", value: raw,
                        expected: "a comma-separated list of tracecontext, baggage, b3, b3multi or none"),
                    using: "the others, without '\(name)'")
            }
        }
        return CompositePropagator(propagators)
    }

    /// `OTEL_BSP_*` or `OTEL_BLRP_*` (`prefix`).
    private static func parseBatchProcessor(
        _ reader: EnvironmentReader, prefix: String, defaults: BatchExportConfiguration
    ) -> BatchExportConfiguration {
        let queueSize = reader.integer("\(prefix)_MAX_QUEUE_SIZE", minimum: 1) ?? defaults.maximumQueueSize
        var batchSize =
            reader.integer("\(prefix)_MAX_EXPORT_BATCH_SIZE", minimum: 1)
            ?? min(defaults.maximumExportBatchSize, queueSize)
        if batchSize > queueSize {
            reader.warn(
                .invalidValue(
                    variable: "\(prefix)_MAX_EXPORT_BATCH_SIZE", value: String(batchSize),
                    expected: "at most \(prefix)_MAX_QUEUE_SIZE (\(queueSize))"),
                using: String(queueSize))
            batchSize = queueSize
        }
        // Milliseconds, at most a day: larger values are not schedules but typos (and would overflow Duration math).
        let delay = reader.integer("\(prefix)_SCHEDULE_DELAY", minimum: 0, maximum: 86_400_000).map { Duration.milliseconds($0) }
        let timeout = reader.integer("\(prefix)_EXPORT_TIMEOUT", minimum: 0, maximum: 86_400_000).map { Duration.milliseconds($0) }
        return BatchExportConfiguration(
            maximumQueueSize: queueSize,
            scheduleDelay: delay ?? defaults.scheduleDelay,
            maximumExportBatchSize: batchSize,
            exportTimeout: timeout ?? defaults.exportTimeout)
    }

    private static func parseLimits(_ reader: EnvironmentReader) -> SpanLimits {
        let defaults = SpanLimits()
        let generalAttributeCount = reader.integer("OTEL_ATTRIBUTE_COUNT_LIMIT", minimum: 0)
        let generalValueLength = reader.integer("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", minimum: 0)
        let attributeCount = reader.integer("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", minimum: 0) ?? generalAttributeCount
        let valueLength = reader.integer("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", minimum: 0) ?? generalValueLength
        return SpanLimits(
            attributeCountLimit: attributeCount ?? defaults.attributeCountLimit,
            attributeValueLengthLimit: valueLength,
            eventCountLimit: reader.integer("OTEL_SPAN_EVENT_COUNT_LIMIT", minimum: 0) ?? defaults.eventCountLimit,
            linkCountLimit: reader.integer("OTEL_SPAN_LINK_COUNT_LIMIT", minimum: 0) ?? defaults.linkCountLimit,
            eventAttributeCountLimit: reader.integer("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", minimum: 0)
                ?? defaults.eventAttributeCountLimit,
            linkAttributeCountLimit: reader.integer("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", minimum: 0)
                ?? defaults.linkAttributeCountLimit)
    }
}

/// Typed, validated reads of environment variables. Empty values count as unset, as the specification says. A
/// value that cannot be used is recorded in ``warnings`` and read as unset, so the default applies.
final class EnvironmentReader {
    let environment: [String: String]
    private(set) var warnings: [String] = []

    init(environment: [String: String]) {
        self.environment = environment
    }

    func warn(_ problem: ConfigurationError, using fallback: String) {
        warnings.append("\(problem.description); using \(fallback)")
    }

    func string(_ name: String) -> String? {
        guard let raw = environment[name] else { return nil }
        let value = String(Substring(raw).trimmingOptionalWhiteSpace())
        guard !value.isEmpty else { return nil }
        return value
    }

    func bool(_ name: String) -> Bool? {
        guard let raw = string(name) else { return nil }
        switch raw.lowercased() {
        case "true": return true
        case "false": return false
        default:
            warn(.invalidValue(variable: name, value: raw, expected: "true or false"), using: "false")
            return nil
        }
    }

    func integer(_ name: String, minimum: Int, maximum: Int = Int.max) -> Int? {
        guard let raw = string(name) else { return nil }
        guard let value = Int(raw), value >= minimum, value <= maximum else {
            let range = maximum == Int.max ? "an integer of at least \(minimum)" : "an integer from \(minimum) to \(maximum)"
            warn(.invalidValue(variable: name, value: raw, expected: range), using: "the default")
            return nil
        }
        return value
    }

    func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, from type: Choice.Type, default fallback: Choice
    ) -> Choice where Choice.RawValue == String {
        guard let raw = string(name) else { return fallback }
        guard let value = Choice(rawValue: raw.lowercased()) else {
            warn(
                .invalidValue(variable: name, value: raw, expected: "one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))"),
                using: fallback.rawValue)
            return fallback
        }
        return value
    }

    /// For choices where a fallback would send data somewhere the user did not ask for: an error, not a warning.
    func exactChoice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, from type: Choice.Type
    ) throws(ConfigurationError) -> Choice? where Choice.RawValue == String {
        guard let raw = string(name) else { return nil }
        guard let value = Choice(rawValue: raw.lowercased()) else {
            throw .invalidValue(
                variable: name, value: raw, expected: "one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func list<Choice: RawRepresentable & CaseIterable>(
        _ name: String, of type: Choice.Type
    ) throws(ConfigurationError) -> [Choice]? where Choice.RawValue == String {
        guard let raw = string(name) else { return nil }
        var values: [Choice] = []
        for item in raw.split(separator: ",") {
            guard let value = Choice(rawValue: item.trimmingOptionalWhiteSpace().lowercased()) else {
                throw .invalidValue(
                    variable: name, value: raw,
                    expected: "a comma-separated list of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            values.append(value)
        }
        return values
    }
}
