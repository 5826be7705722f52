import Foundation
import GRPCCore
import Otter
import OtterOTLP
import SwiftProtobuf

/// Reads the arguments of Jaeger's remote storage calls (`jaeger.storage.v2`) with checked arithmetic: anything the
/// store cannot answer as asked is INVALID_ARGUMENT with a message naming the field.
enum RemoteStorageQuery {
    /// `TraceQueryParameters` as a ``TraceQuery``: an empty `service_name` searches every service (declared in
    /// `GetCapabilities`), attributes compare as the HTTP API's tags do (their text), an absent `start_time_max` means
    /// no upper bound, `search_depth` must be 0...10,000 (0: 20).
    static func traceQuery(_ parameters: Jaeger_Storage_V2_TraceQueryParameters?) throws -> TraceQuery {
        guard let parameters else { throw invalid("query is required") }
        guard !parameters.hasFilter else {
            throw invalid(
                "query.filter (structured filters) is not supported: GetCapabilities declares none; use service_name, operation_name, "
                    + "attributes and the duration bounds")
        }
        // 0 is what a caller that left it unset sends (Jaeger's api_v3 passes it through): the default depth, as
        // Jaeger's own backends read it.
        guard (0...JaegerSearch.maximumLimit).contains(Int(parameters.searchDepth)) else {
            throw invalid(
                "query.search_depth must be between 0 (the default, 20) and \(JaegerSearch.maximumLimit), not \(parameters.searchDepth)")
        }
        var query = TraceQuery(
            service: parameters.serviceName.isEmpty ? nil : parameters.serviceName,
            operation: parameters.operationName.isEmpty ? nil : parameters.operationName,
            startTimeMinimumNanoseconds: parameters.hasStartTimeMin ? try nanoseconds(parameters.startTimeMin, "query.start_time_min") : 0,
            startTimeMaximumNanoseconds: parameters.hasStartTimeMax
                ? try nanoseconds(parameters.startTimeMax, "query.start_time_max") : UntrustedValue.maximumNanoseconds,
            limit: parameters.searchDepth == 0 ? defaultSearchDepth : Int(parameters.searchDepth))
        guard query.startTimeMinimumNanoseconds <= query.startTimeMaximumNanoseconds else {
            throw invalid("query.start_time_min must not be after query.start_time_max")
        }
        if parameters.hasDurationMin { query.durationMinimumNanoseconds = try nanoseconds(parameters.durationMin, "query.duration_min") }
        if parameters.hasDurationMax { query.durationMaximumNanoseconds = try nanoseconds(parameters.durationMax, "query.duration_max") }
        if let minimum = query.durationMinimumNanoseconds, let maximum = query.durationMaximumNanoseconds, minimum > maximum {
            throw invalid("query.duration_min must not be greater than query.duration_max")
        }
        query.tags = try parameters.attributes.enumerated().compactMap { index, attribute in
            guard !attribute.key.isEmpty else { throw invalid("query.attributes[\(index)].key must not be empty") }
            // An attribute without a value is skipped, as Jaeger's own remote storage server does.
            guard attribute.hasValue, attribute.value.value != nil else { return nil }
            return (attribute.key, try searchText(attribute.value, "query.attributes[\(index)].value"))
        }
        return query
    }

    /// Traces a search returns when `search_depth` is 0 (unset): Jaeger UI's default.
    static let defaultSearchDepth = 20

    /// A time, in nanoseconds since the epoch: instants before 1970 mean 1970, after 2262 mean 2262 (the store's range),
    /// which select the same spans.
    static func nanoseconds(_ time: Google_Protobuf_Timestamp, _ name: String) throws -> UInt64 {
        guard (0..<1_000_000_000).contains(time.nanos) else { throw invalid("\(name).nanos must be 0...999999999, not \(time.nanos)") }
        guard time.seconds >= 0 else { return 0 }
        return clamped(seconds: UInt64(time.seconds), nanoseconds: UInt64(time.nanos))
    }

    /// A duration, in nanoseconds; negative durations are refused.
    static func nanoseconds(_ duration: Google_Protobuf_Duration, _ name: String) throws -> UInt64 {
        guard duration.seconds >= 0, duration.nanos >= 0 else { throw invalid("\(name) must not be negative") }
        guard duration.nanos < 1_000_000_000 else { throw invalid("\(name).nanos must be 0...999999999, not \(duration.nanos)") }
        return clamped(seconds: UInt64(duration.seconds), nanoseconds: UInt64(duration.nanos))
    }

    static func clamped(seconds: UInt64, nanoseconds: UInt64) -> UInt64 {
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, carry) = whole.addingReportingOverflow(nanoseconds)
        return overflow || carry ? UntrustedValue.maximumNanoseconds : min(total, UntrustedValue.maximumNanoseconds)
    }

    /// The text a stored attribute of this value is searched by. The storage API's `AnyValue` is OTLP's, field for
    /// field, so it is read as OTLP's and goes the same way as an ingested attribute.
    static func searchText(_ value: Jaeger_Storage_V2_AnyValue, _ name: String) throws -> String {
        guard let otlp = try? Opentelemetry_Proto_Common_V1_AnyValue(serializedBytes: value.serializedBytes() as [UInt8]),
            let attribute = OTLPReading.spanAttribute(otlp)
        else { throw invalid("\(name) cannot be read as an attribute value") }
        return AttributeText.searchText(attribute)
    }

    /// A time in nanoseconds since the epoch as a protobuf timestamp.
    static func timestamp(_ nanoseconds: UInt64) -> Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(seconds: Int64(nanoseconds / 1_000_000_000), nanos: Int32(nanoseconds % 1_000_000_000))
    }

    /// A 16-byte trace id.
    static func traceID(_ bytes: Data, _ name: String) throws -> TraceID {
        guard let traceID = TraceID(bytes: bytes) else { throw invalid("\(name) must be 16 bytes, not \(bytes.count)") }
        return traceID
    }

    /// `read`'s answer; a store failure is INTERNAL with its message (an invalid argument passes through).
    static func reading<Value>(_ read: () async throws -> Value) async throws -> Value {
        do {
            return try await read()
        } catch let error as RPCError {
            throw error
        } catch is CancellationError {
            throw RPCError(code: .cancelled, message: "the call was cancelled")
        } catch {
            throw RPCError(code: .internalError, message: "reading the store failed: \(error)")
        }
    }

    static func invalid(_ message: String) -> RPCError {
        RPCError(code: .invalidArgument, message: message)
    }
}
