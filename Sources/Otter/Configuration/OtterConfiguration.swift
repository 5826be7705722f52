import Tracing

/// Everything the SDK reads from the environment, per the OpenTelemetry SDK environment specification, plus
/// the seeds' `EXPORTER=console|jaeger|otlp` switch and `OTTER_CONSOLE_STYLE=line|json|tree`.
public struct OtterConfiguration: Sendable {
    /// A destination named by `OTEL_TRACES_EXPORTER` or `EXPORTER`.
    public enum ExporterKind: String, Sendable, Hashable, CaseIterable {
        case console
        case otlp
        /// The seeds' `EXPORTER=jaeger`: OTLP/gRPC to localhost:4317 unless `OTEL_EXPORTER_OTLP_*` says otherwise.
        case jaeger
        case none
    }

    /// `OTEL_SDK_DISABLED=true`: spans are neither recorded nor exported.
    public var isSDKDisabled: Bool
    public var resource: Resource
    public var sampler: any Sampler
    public var exporters: [ExporterKind]
    public var propagator: any TextMapPropagator
    public var batchProcessor: BatchSpanProcessor.Configuration
    public var limits: SpanLimits
    public var consoleStyle: ConsoleSpanExporter.Style
    /// The environment read, for exporters that read their own variables (`OTEL_EXPORTER_OTLP_*`).
    public var environment: [String: String]

    /// Reads the configuration. `defaultExporters` applies when neither `OTEL_TRACES_EXPORTER` nor `EXPORTER`
    /// is set. Throws, naming the variable, for any value it cannot use.
    public static func fromEnvironment(
        _ environment: [String: String],
        defaultExporters: [ExporterKind] = [.otlp]
    ) throws(ConfigurationError) -> OtterConfiguration {
        let reader = EnvironmentReader(environment: environment)
        let sampler = try parseSampler(reader)
        return OtterConfiguration(
            isSDKDisabled: try reader.bool("OTEL_SDK_DISABLED") ?? false,
            resource: try Resource.fromEnvironment(environment),
            sampler: sampler,
            exporters: try parseExporters(reader) ?? defaultExporters,
            propagator: try parsePropagators(reader),
            batchProcessor: try parseBatchProcessor(reader),
            limits: try parseLimits(reader),
            consoleStyle: try reader.choice("OTTER_CONSOLE_STYLE", from: ConsoleSpanExporter.Style.self) ?? .line,
            environment: environment)
    }

    private static func parseSampler(_ reader: EnvironmentReader) throws(ConfigurationError) -> any Sampler {
        let name = reader.string("OTEL_TRACES_SAMPLER")?.lowercased() ?? "parentbased_always_on"
        func ratio() throws(ConfigurationError) -> Double {
            guard let raw = reader.string("OTEL_TRACES_SAMPLER_ARG") else { return 1.0 }
            guard let value = Double(raw), (0...1).contains(value) else {
                throw .invalidValue(variable: "OTEL_TRACES_SAMPLER_ARG", value: raw, expected: "a number from 0 to 1")
            }
            return value
        }
        switch name {
        case "always_on": return AlwaysOnSampler()
        case "always_off": return AlwaysOffSampler()
        case "traceidratio": return TraceIDRatioBasedSampler(ratio: try ratio())
        case "parentbased_always_on": return ParentBasedSampler(root: AlwaysOnSampler())
        case "parentbased_always_off": return ParentBasedSampler(root: AlwaysOffSampler())
        case "parentbased_traceidratio": return ParentBasedSampler(root: TraceIDRatioBasedSampler(ratio: try ratio()))
        default:
            throw .invalidValue(
                variable: "OTEL_TRACES_SAMPLER", value: name,
                expected: "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off "
                    + "or parentbased_traceidratio")
        }
    }

    private static func parseExporters(_ reader: EnvironmentReader) throws(ConfigurationError) -> [ExporterKind]? {
        let standard = try reader.list("OTEL_TRACES_EXPORTER", of: ExporterKind.self)
        let seed = try reader.choice("EXPORTER", from: ExporterKind.self)
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

    private static func parsePropagators(_ reader: EnvironmentReader) throws(ConfigurationError) -> any TextMapPropagator {
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
                throw .invalidValue(
                    variable: "OTEL_PROPAGATORS", value: raw,
                    expected: "a comma-separated list of tracecontext, baggage, b3, b3multi or none")
            }
        }
        return CompositePropagator(propagators)
    }

    private static func parseBatchProcessor(
        _ reader: EnvironmentReader
    ) throws(ConfigurationError) -> BatchSpanProcessor.Configuration {
        let defaults = BatchSpanProcessor.Configuration()
        let queueSize = try reader.integer("OTEL_BSP_MAX_QUEUE_SIZE", minimum: 1) ?? defaults.maximumQueueSize
        let batchSize = try reader.integer("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", minimum: 1)
            ?? min(defaults.maximumExportBatchSize, queueSize)
        guard batchSize <= queueSize else {
            throw .invalidValue(
                variable: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", value: String(batchSize),
                expected: "at most OTEL_BSP_MAX_QUEUE_SIZE (\(queueSize))")
        }
        let delay = try reader.integer("OTEL_BSP_SCHEDULE_DELAY", minimum: 0).map { Duration.milliseconds($0) }
        let timeout = try reader.integer("OTEL_BSP_EXPORT_TIMEOUT", minimum: 0).map { Duration.milliseconds($0) }
        return BatchSpanProcessor.Configuration(
            maximumQueueSize: queueSize,
            scheduleDelay: delay ?? defaults.scheduleDelay,
            maximumExportBatchSize: batchSize,
            exportTimeout: timeout ?? defaults.exportTimeout)
    }

    private static func parseLimits(_ reader: EnvironmentReader) throws(ConfigurationError) -> SpanLimits {
        let defaults = SpanLimits()
        let generalAttributeCount = try reader.integer("OTEL_ATTRIBUTE_COUNT_LIMIT", minimum: 0)
        let generalValueLength = try reader.integer("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", minimum: 0)
        let attributeCount = try reader.integer("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", minimum: 0) ?? generalAttributeCount
        let valueLength = try reader.integer("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", minimum: 0) ?? generalValueLength
        return SpanLimits(
            attributeCountLimit: attributeCount ?? defaults.attributeCountLimit,
            attributeValueLengthLimit: valueLength,
            eventCountLimit: try reader.integer("OTEL_SPAN_EVENT_COUNT_LIMIT", minimum: 0) ?? defaults.eventCountLimit,
            linkCountLimit: try reader.integer("OTEL_SPAN_LINK_COUNT_LIMIT", minimum: 0) ?? defaults.linkCountLimit,
            eventAttributeCountLimit: try reader.integer("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", minimum: 0)
                ?? defaults.eventAttributeCountLimit,
            linkAttributeCountLimit: try reader.integer("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", minimum: 0)
                ?? defaults.linkAttributeCountLimit)
    }
}

/// Typed, validated reads of environment variables. Empty values count as unset, as the specification says.
struct EnvironmentReader {
    let environment: [String: String]

    func string(_ name: String) -> String? {
        guard let raw = environment[name] else { return nil }
        let value = String(Substring(raw).trimmingOptionalWhiteSpace())
        guard !value.isEmpty else { return nil }
        return value
    }

    func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let raw = string(name) else { return nil }
        switch raw.lowercased() {
        case "true": return true
        case "false": return false
        default: throw .invalidValue(variable: name, value: raw, expected: "true or false")
        }
    }

    func integer(_ name: String, minimum: Int) throws(ConfigurationError) -> Int? {
        guard let raw = string(name) else { return nil }
        guard let value = Int(raw), value >= minimum else {
            throw .invalidValue(variable: name, value: raw, expected: "an integer of at least \(minimum)")
        }
        return value
    }

    func choice<Choice: RawRepresentable & CaseIterable>(
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

