import Foundation
import Tracing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The entity that produces spans: a service in a process on a host (OpenTelemetry resource).
public struct Resource: Sendable, Hashable {
    /// The resource's attributes, such as `service.name`, `host.name` and `process.pid`.
    public var attributes: SpanAttributes
    /// The semantic conventions schema URL the attributes follow; nil when not stated.
    public var schemaURL: String?

    /// Makes a resource from exactly these attributes; nothing is detected (see ``detectingProcess()``).
    public init(attributes: SpanAttributes = [:], schemaURL: String? = nil) {
        self.attributes = attributes
        self.schemaURL = schemaURL
    }

    /// Hashes the parts that identify a resource cheaply; equal resources hash equally.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(serviceName)
        hasher.combine(attributes.count)
        hasher.combine(schemaURL)
    }

    /// The service name OpenTelemetry specifies for telemetry without one (the SDK adds `:<process name>`), and the
    /// name the viewer files such spans under.
    package static let unknownServiceName = "unknown_service"

    /// ``serviceName``, or ``unknownServiceName`` when the resource has none.
    package var serviceNameOrUnknown: String { serviceName ?? Resource.unknownServiceName }

    /// `service.name`, if set; a value of another type as its text (`42`), as Jaeger reads it.
    public var serviceName: String? {
        attributes.get("service.name").map(AttributeText.searchText)
    }

    /// This resource with `other`'s attributes added; `other` wins where both have a key.
    public func merging(_ other: Resource) -> Resource {
        var merged = attributes
        merged.merge(other.attributes)
        return Resource(attributes: merged, schemaURL: other.schemaURL ?? schemaURL)
    }

    /// What the SDK knows about the process and host: telemetry.sdk.*, host.name, process.pid,
    /// process.executable.name, os.type, and the default `service.name` `unknown_service:<process name>`.
    public static func detectingProcess() -> Resource {
        let processName = ProcessInfo.processInfo.processName
        var attributes: SpanAttributes = [:]
        attributes.set("service.name", value: .string("\(Resource.unknownServiceName):\(processName)"))
        attributes.set("telemetry.sdk.name", value: .string("otter"))
        attributes.set("telemetry.sdk.language", value: .string("swift"))
        attributes.set("telemetry.sdk.version", value: .string(Otter.version))
        attributes.set("process.pid", value: .int64(Int64(getpid())))
        attributes.set("process.executable.name", value: .string(processName))
        attributes.set("host.name", value: .string(currentHostName()))
        #if os(Linux)
        attributes.set("os.type", value: .string("linux"))
        #elseif os(macOS)
        attributes.set("os.type", value: .string("darwin"))
        #endif
        return Resource(attributes: attributes)
    }

    /// The resource described by `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME` (which wins for
    /// `service.name`), on top of the detected one.
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> Resource {
        var resource = detectingProcess()
        if let raw = environment["OTEL_RESOURCE_ATTRIBUTES"], !raw.isEmpty {
            resource = resource.merging(Resource(attributes: try parseResourceAttributes(raw)))
        }
        if let serviceName = environment["OTEL_SERVICE_NAME"], !serviceName.isEmpty {
            resource.attributes.set("service.name", value: .string(serviceName))
        }
        return resource
    }

    /// Parses the W3C-baggage-like `key1=value1,key2=value2` list of `OTEL_RESOURCE_ATTRIBUTES`,
    /// percent-decoding values.
    static func parseResourceAttributes(_ raw: String) throws(ConfigurationError) -> SpanAttributes {
        var attributes: SpanAttributes = [:]
        for member in raw.split(separator: ",") {
            let trimmed = member.trimmingOptionalWhiteSpace()
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ConfigurationError.invalidValue(
                    variable: "OTEL_RESOURCE_ATTRIBUTES", value: raw, expected: "key=value pairs separated by commas")
            }
            let key = trimmed[..<equals].trimmingOptionalWhiteSpace()
            let value = trimmed[trimmed.index(after: equals)...].trimmingOptionalWhiteSpace()
            guard !key.isEmpty, let decoded = String(value).removingPercentEncoding else {
                throw ConfigurationError.invalidValue(
                    variable: "OTEL_RESOURCE_ATTRIBUTES", value: raw,
                    expected: "key=value pairs with percent-encoded values")
            }
            attributes.set(String(key), value: .string(decoded))
        }
        return attributes
    }

    private static func currentHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
