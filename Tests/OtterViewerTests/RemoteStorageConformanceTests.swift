import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Otter
import OtterOTLP
import SwiftProtobuf
import Testing

@testable import OtterViewer

/// Jaeger's storage integration cases (`internal/storage/integration` at v2.20.0: its trace fixtures and queries.json,
/// copied as data) run against the viewer's Jaeger remote storage API over gRPC, as Jaeger v2's `grpc` storage backend
/// calls it.
@Suite("Jaeger remote storage: Jaeger's integration cases", .serialized)
struct RemoteStorageConformanceTests {
    /// One case of queries.json.
    struct Case {
        let caption: String
        let query: Jaeger_Storage_V2_TraceQueryParameters
        let expectedFixtures: [String]
    }

    static var directory: URL {
        get throws {
            try #require(Bundle.module.url(forResource: "jaeger", withExtension: nil)).appendingPathComponent("storage-integration")
        }
    }

    static func fixture(_ name: String) throws -> OTLPTraces {
        try OTLPTraces(json: Data(contentsOf: directory.appendingPathComponent("traces/\(name).json")))
    }

    static var fixtureNames: [String] {
        get throws {
            try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("traces").path)
                .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        }
    }

    /// queries.json as storage API queries, tags typed as Jaeger's test types them (whole numbers as ints).
    static func cases() throws -> [Case] {
        let data = try Data(contentsOf: directory.appendingPathComponent("queries.json"))
        let entries = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return try entries.map { entry in
            let query = try #require(entry["Query"] as? [String: Any])
            var parameters = Jaeger_Storage_V2_TraceQueryParameters()
            parameters.serviceName = query["ServiceName"] as? String ?? ""
            parameters.operationName = query["OperationName"] as? String ?? ""
            for (key, value) in ((query["Tags"] as? [String: Any]) ?? [:]).sorted(by: { $0.key < $1.key }) {
                var attribute = Jaeger_Storage_V2_KeyValue()
                attribute.key = key
                switch value {
                case let text as String: attribute.value.stringValue = text
                case let number as NSNumber where String(cString: number.objCType) == "c": attribute.value.boolValue = number.boolValue
                case let number as NSNumber where number.doubleValue == number.doubleValue.rounded():
                    attribute.value.intValue = number.int64Value
                case let number as NSNumber: attribute.value.doubleValue = number.doubleValue
                default: Issue.record("unexpected tag value \(value)")
                }
                parameters.attributes.append(attribute)
            }
            parameters.startTimeMin = RemoteStorageQuery.timestamp(try #require(RFC3339.nanoseconds(query["StartTimeMin"] as! String)))
            parameters.startTimeMax = RemoteStorageQuery.timestamp(try #require(RFC3339.nanoseconds(query["StartTimeMax"] as! String)))
            for (field, name) in [(\Jaeger_Storage_V2_TraceQueryParameters.durationMin, "DurationMin"), (\.durationMax, "DurationMax")] {
                let nanoseconds = (query[name] as? NSNumber)?.int64Value ?? 0
                if nanoseconds > 0 {
                    parameters[keyPath: field] = Google_Protobuf_Duration(
                        seconds: nanoseconds / 1_000_000_000, nanos: Int32(nanoseconds % 1_000_000_000))
                }
            }
            parameters.searchDepth = Int32((query["NumTraces"] as? NSNumber)?.int32Value ?? 0)
            return Case(
                caption: entry["Caption"] as? String ?? "", query: parameters,
                expectedFixtures: entry["ExpectedFixtures"] as? [String] ?? [])
        }
    }

    /// The spans of each trace received, by trace id; records a chunk that mixes traces or is empty.
    static func collect(_ messages: [Opentelemetry_Proto_Trace_V1_TracesData]) -> [TraceID: [Opentelemetry_Proto_Trace_V1_Span]] {
        var traces: [TraceID: [Opentelemetry_Proto_Trace_V1_Span]] = [:]
        for message in messages {
            let spans = message.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }
            #expect(!spans.isEmpty, "no empty chunk")
            let traceIDs = Set(spans.compactMap { TraceID(bytes: $0.traceID) })
            #expect(traceIDs.count == 1, "a chunk holds one trace")
            if let traceID = traceIDs.first { traces[traceID, default: []] += spans }
        }
        return traces
    }

    /// A fixture's spans by trace id, as written.
    static func spans(of traces: OTLPTraces) -> [TraceID: [Opentelemetry_Proto_Trace_V1_Span]] {
        Dictionary(grouping: traces.request.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }) { TraceID(bytes: $0.traceID)! }
    }

    static func sameSpans(_ left: [Opentelemetry_Proto_Trace_V1_Span], _ right: [Opentelemetry_Proto_Trace_V1_Span]) -> Bool {
        func key(_ span: Opentelemetry_Proto_Trace_V1_Span) -> String { "\(span.spanID.base64EncodedString()) \(span.startTimeUnixNano)" }
        return left.map(key).sorted() == right.map(key).sorted() && Set(left) == Set(right)
    }

    /// Cases whose expected traces Otter's search does not find, and why: it matches the attributes of spans,
    /// resources, events and links, not those of instrumentation scopes (which the index does not hold).
    static let knownDifferences: [String: String] = [
        "Scope Attributes": "instrumentation scope attributes are not searched"
    ]

    @Test func findTracesAnswersJaegersQueriesWithTheirExpectedTraces() async throws {
        let viewer = try await RunningViewer(servingRemoteStorage: true)
        var fixtures: [String: OTLPTraces] = [:]
        for name in try Self.fixtureNames {
            fixtures[name] = try Self.fixture(name)
            try await viewer.store.write(fixtures[name]!)
        }
        let cases = try Self.cases()
        #expect(cases.count == 25)
        var differing: [String] = []
        try await withRemoteStorage(viewer) { reader, _ in
            for testCase in cases {
                var request = Jaeger_Storage_V2_FindTracesRequest()
                request.query = testCase.query
                let found = Self.collect(try await reader.findTraces(request) { try await Array($0.messages) })
                var expected: [TraceID: [Opentelemetry_Proto_Trace_V1_Span]] = [:]
                for name in testCase.expectedFixtures { expected.merge(Self.spans(of: try #require(fixtures[name]))) { $0 + $1 } }
                let same = Set(found.keys) == Set(expected.keys) && expected.allSatisfy { Self.sameSpans(found[$0.key] ?? [], $0.value) }
                if !same { differing.append(testCase.caption) }
                // FindTraceIDs names the same traces, each with the time range of its spans.
                var idsRequest = Jaeger_Storage_V2_FindTraceIDsRequest()
                idsRequest.query = testCase.query
                let ids = try await reader.findTraceIDs(idsRequest).traceIds
                #expect(Set(ids.compactMap { TraceID(bytes: $0.traceID) }) == Set(found.keys), "\(testCase.caption)")
                for id in ids {
                    let spans = found[TraceID(bytes: id.traceID)!] ?? []
                    #expect(try RemoteStorageQuery.nanoseconds(id.start, "start") == spans.map(\.startTimeUnixNano).min())
                }
            }
        }
        #expect(differing.sorted() == Self.knownDifferences.keys.sorted(), "cases answered differently from Jaeger: \(differing)")
        await viewer.stop()
    }

    @Test func getTracesReturnsEachFixtureWholeAndIgnoresUnknownIDs() async throws {
        let viewer = try await RunningViewer(servingRemoteStorage: true)
        var expected: [TraceID: [Opentelemetry_Proto_Trace_V1_Span]] = [:]
        for name in try Self.fixtureNames {
            let traces = try Self.fixture(name)
            try await viewer.store.write(traces)
            expected.merge(Self.spans(of: traces)) { $0 + $1 }
        }
        try await withRemoteStorage(viewer) { reader, _ in
            var request = Jaeger_Storage_V2_GetTracesRequest()
            let unknown = Data(repeating: 0xab, count: 16)
            let ids = expected.keys.sorted { $0.hexString < $1.hexString }
            // Every id, one of them twice, and an unknown one.
            request.query =
                (ids + [ids[0]]).map { id in
                    var parameters = Jaeger_Storage_V2_GetTraceParams()
                    parameters.traceID = Data(id.bytes)
                    return parameters
                } + [Jaeger_Storage_V2_GetTraceParams.with { $0.traceID = unknown }]
            let messages = try await reader.getTraces(request) { try await Array($0.messages) }
            let found = Self.collect(messages)
            #expect(Set(found.keys) == Set(expected.keys))
            for (traceID, spans) in expected { #expect(Self.sameSpans(found[traceID] ?? [], spans), "\(traceID)") }
            // The chunks of one trace are consecutive: the trace ids change exactly once per trace.
            let order = messages.compactMap { $0.resourceSpans.first?.scopeSpans.first?.spans.first.flatMap { TraceID(bytes: $0.traceID) } }
            #expect(zip(order, order.dropFirst()).filter { $0 != $1 }.count == expected.count - 1)

            var onlyUnknown = Jaeger_Storage_V2_GetTracesRequest()
            onlyUnknown.query = [.with { $0.traceID = unknown }]
            #expect(try await reader.getTraces(onlyUnknown) { try await Array($0.messages) }.isEmpty, "an empty stream")
        }
        await viewer.stop()
    }

    /// Jaeger's testGetServices and testGetOperations on example_trace.json.
    @Test func servicesAndOperationsOfTheExampleTrace() async throws {
        let viewer = try await RunningViewer(servingRemoteStorage: true)
        try await viewer.store.write(try Self.fixture("example_trace"))
        try await withRemoteStorage(viewer) { reader, _ in
            #expect(try await reader.getServices(.init()).services == ["example-service-1", "example-service-2", "example-service-3"])
            let operations = try await reader.getOperations(.with { $0.service = "example-service-1" }).operations
            // Jaeger expects span kind "" for example-operation-1 (SPAN_KIND_UNSPECIFIED); Otter lists unspecified as internal.
            #expect(
                operations.map { "\($0.name) \($0.spanKind)" } == [
                    "example-operation-1 internal", "example-operation-3 server", "example-operation-4 client",
                ])
            let servers = try await reader.getOperations(
                .with {
                    $0.service = "example-service-1"
                    $0.spanKind = "server"
                }
            ).operations
            #expect(servers.map(\.name) == ["example-operation-3"])
        }
        await viewer.stop()
    }
}

/// Runs `body` with clients of the viewer's remote storage port: the trace reader and a plain gRPC client for the
/// other services, with `authorization` metadata when `token` is given.
func withRemoteStorage(
    _ viewer: RunningViewer, token: String? = nil,
    _ body: (Jaeger_Storage_V2_TraceReader.Client<HTTP2ClientTransport.Posix>, GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Void
) async throws {
    try await withGRPCClient(
        transport: .http2NIOPosix(
            // grpc-swift's client, like Jaeger's, refuses messages over 4 MiB.
            target: .ipv4(address: "127.0.0.1", port: viewer.remoteStoragePort), transportSecurity: .plaintext),
        interceptors: token.map { [AuthorizationInterceptor(token: $0)] } ?? []
    ) { client in
        try await body(Jaeger_Storage_V2_TraceReader.Client(wrapping: client), client)
    }
}

/// Sends `authorization: Bearer TOKEN` with every call.
struct AuthorizationInterceptor: ClientInterceptor {
    let token: String

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>, context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        var request = request
        request.metadata.addString("Bearer \(token)", forKey: "authorization")
        return try await next(request, context)
    }
}
