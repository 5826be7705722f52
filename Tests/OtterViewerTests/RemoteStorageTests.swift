import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Otter
import OtterOTLP
import SwiftProtobuf
import Testing
import Tracing

@testable import OtterViewer

/// The Jaeger remote storage listener as a client sees it: chunked large traces, refusals with INVALID_ARGUMENT, the
/// bearer token, capabilities, health, dependencies, summaries and OTLP writes on the same port.
@Suite("Jaeger remote storage API", .serialized)
struct RemoteStorageTests {
    /// A trace of `count` spans under one root, each with an attribute of `padding` bytes.
    static func wideTrace(_ traceID: TraceID, count: Int, padding: Int = 100, start: UInt64 = 1_700_000_000_000_000_000) -> [FinishedSpan] {
        let root = SpanID(1)
        return (0..<count).map { index in
            let context = OtterSpanContext(traceID: traceID, spanID: SpanID(UInt64(index) + 1), traceFlags: .sampled)
            let parent = index == 0 ? nil : OtterSpanContext(traceID: traceID, spanID: root, traceFlags: .sampled)
            let attributes: SpanAttributes = ["payload": .string(String(repeating: "x", count: padding)), "index": .int64(Int64(index))]
            return FinishedSpan(
                operationName: index == 0 ? "root" : "work-\(index % 10)", kind: index == 0 ? .server : .internal, spanContext: context,
                parentSpanContext: parent, startTimeNanosecondsSinceEpoch: start + UInt64(index),
                endTimeNanosecondsSinceEpoch: start + 1_000_000 + UInt64(index), attributes: attributes,
                resource: Resource(attributes: ["service.name": .string(index % 3 == 0 ? "front" : "back")]))
        }
    }

    static func query(service: String = "", depth: Int32 = 20) -> Jaeger_Storage_V2_TraceQueryParameters {
        var query = Jaeger_Storage_V2_TraceQueryParameters()
        query.serviceName = service
        query.startTimeMin = RemoteStorageQuery.timestamp(0)
        query.startTimeMax = RemoteStorageQuery.timestamp(UntrustedValue.maximumNanoseconds)
        query.searchDepth = depth
        return query
    }

    @Test func aLargeTraceArrivesWholeInConsecutiveChunksUnderFourMebibytes() async throws {
        let viewer = try await RunningViewer(servingRemoteStorage: true)
        let traceID = TraceID(high: 7, low: 7)
        let spans = Self.wideTrace(traceID, count: 30_000)
        try await viewer.store.write(spans)
        try await viewer.store.write(Self.wideTrace(TraceID(high: 8, low: 8), count: 10))
        try await withRemoteStorage(viewer) { reader, _ in
            var request = Jaeger_Storage_V2_GetTracesRequest()
            request.query = [.with { $0.traceID = Data(traceID.bytes) }, .with { $0.traceID = Data(TraceID(high: 8, low: 8).bytes) }]
            let messages = try await reader.getTraces(request) { try await Array($0.messages) }
            let sizes = try messages.map { try ($0.serializedBytes() as [UInt8]).count }
            #expect(messages.count > 3, "30,000 spans of ~150 bytes take several chunks, not \(messages.count)")
            #expect(sizes.allSatisfy { $0 <= 4 << 20 })
            let found = RemoteStorageConformanceTests.collect(messages)
            #expect(found[traceID]?.count == 30_000)
            #expect(Set(found[traceID]?.map(\.spanID) ?? []).count == 30_000)
            #expect(found[TraceID(high: 8, low: 8)]?.count == 10)
            // Resources stay with their spans: every span of `front` is in a resource naming `front`.
            for message in messages {
                for resourceSpans in message.resourceSpans {
                    let service = resourceSpans.resource.attributes.first { $0.key == "service.name" }?.value.stringValue
                    for span in resourceSpans.scopeSpans.flatMap(\.spans) where span.name != "root" {
                        let index = span.attributes.first { $0.key == "index" }!.value.intValue
                        #expect(service == (index % 3 == 0 ? "front" : "back"))
                    }
                }
            }
            // FindTraces streams the same chunks for the traces it finds.
            var find = Jaeger_Storage_V2_FindTracesRequest()
            find.query = Self.query(service: "front")
            find.query.operationName = "root"
            let searched = RemoteStorageConformanceTests.collect(try await reader.findTraces(find) { try await Array($0.messages) })
            #expect(searched[traceID]?.count == 30_000)
        }
        await viewer.stop()
    }

    @Test func aSpanLargerThanAMessageHasItsLongValuesCutInTheStreamOnly() async throws {
        let viewer = try await RunningViewer(servingRemoteStorage: true)
        let traceID = TraceID(high: 9, low: 9)
        var spans = Self.wideTrace(traceID, count: 3)
        spans[1].attributes.set("huge", value: .string(String(repeating: "h", count: 5_000_000)))
        spans[2].attributes.set("many", value: .stringArray(Array(repeating: String(repeating: "m", count: 1_000), count: 5_000)))
        try await viewer.store.write(spans)
        try await withRemoteStorage(viewer) { reader, _ in
            var request = Jaeger_Storage_V2_GetTracesRequest()
            request.query = [.with { $0.traceID = Data(traceID.bytes) }]
            // grpc-swift's client refuses a message over 4 MiB, as Jaeger's does: this read would fail without the cut.
            let messages = try await reader.getTraces(request) { try await Array($0.messages) }
            let received = RemoteStorageConformanceTests.collect(messages)[traceID] ?? []
            #expect(received.count == 3)
            let huge = try #require(received.first { $0.spanID == Data(SpanID(2).bytes) })
            #expect(huge.attributes.first { $0.key == "huge" }?.value.stringValue.utf8.count == TraceChunks.cutValueBytes)
            #expect(huge.attributes.contains { $0.key == TraceChunks.cutMarker })
            let many = try #require(received.first { $0.spanID == Data(SpanID(3).bytes) })
            #expect(many.attributes.first { $0.key == "many" }?.value.stringValue.hasPrefix("(a value of ") == true)
            let untouched = try #require(received.first { $0.spanID == Data(SpanID(1).bytes) })
            #expect(!untouched.attributes.contains { $0.key == TraceChunks.cutMarker })
        }
        // The store keeps the span whole.
        let stored = try await viewer.store.trace(traceID)
        #expect(
            stored.first { $0.spanContext.spanID == SpanID(2) }?.attributes.get("huge") == .string(String(repeating: "h", count: 5_000_000))
        )
        await viewer.stop()
    }

    @Test func badRequestsAreInvalidArgumentWithAMessage() async throws {
        let viewer = try await RunningViewer(servingRemoteStorage: true)
        try await viewer.store.write(Self.wideTrace(TraceID(high: 1, low: 1), count: 3))
        try await withRemoteStorage(viewer) { reader, client in
            func refused(_ expected: String, _ call: () async throws -> Void) async {
                await #expect {
                    try await call()
                } throws: { error in
                    let rpc = error as? RPCError
                    return rpc?.code == .invalidArgument && rpc?.message.contains(expected) == true
                }
            }
            var shortID = Jaeger_Storage_V2_GetTracesRequest()
            shortID.query = [.with { $0.traceID = Data([1, 2, 3]) }]
            await refused("query[0].trace_id must be 16 bytes, not 3") {
                _ = try await reader.getTraces(shortID) { try await Array($0.messages) }
            }
            var tooMany = Jaeger_Storage_V2_GetTracesRequest()
            tooMany.query = Array(repeating: .with { $0.traceID = Data(repeating: 1, count: 16) }, count: 10_001)
            await refused("at most 10000 trace ids") { _ = try await reader.getTraces(tooMany) { try await Array($0.messages) } }

            var cases: [(String, (inout Jaeger_Storage_V2_TraceQueryParameters) -> Void)] = [
                ("search_depth must be between 0 (the default, 20) and 10000, not -5", { $0.searchDepth = -5 }),
                ("search_depth must be between 0 (the default, 20) and 10000, not 10001", { $0.searchDepth = 10_001 }),
                (
                    "start_time_min must not be after query.start_time_max",
                    {
                        $0.startTimeMin = RemoteStorageQuery.timestamp(2_000_000_000_000_000_000)
                        $0.startTimeMax = RemoteStorageQuery.timestamp(1)
                    }
                ),
                ("start_time_min.nanos must be 0...999999999", { $0.startTimeMin.nanos = -1 }),
                ("duration_min must not be negative", { $0.durationMin = Google_Protobuf_Duration(seconds: -1, nanos: 0) }),
                (
                    "duration_min must not be greater than query.duration_max",
                    {
                        $0.durationMin = Google_Protobuf_Duration(seconds: 2, nanos: 0)
                        $0.durationMax = Google_Protobuf_Duration(seconds: 1, nanos: 0)
                    }
                ),
                ("attributes[0].key must not be empty", { $0.attributes = [.with { $0.value.stringValue = "x" }] }),
                ("structured filters", { $0.filter = Jaeger_Expression_V1_Call() }),
            ]
            cases.append(("", { _ in }))
            for (message, change) in cases.dropLast() {
                var query = Self.query()
                change(&query)
                await refused(message) { _ = try await reader.findTraces(.with { $0.query = query }) { try await Array($0.messages) } }
                await refused(message) { _ = try await reader.findTraceIDs(.with { $0.query = query }) }
                await refused(message) {
                    _ = try await reader.findTraceSummaries(.with { $0.query = query }) { try await Array($0.messages) }
                }
            }
            await refused("query is required") { _ = try await reader.findTraceIDs(.init()) }
            await refused("service is required") { _ = try await reader.getOperations(.init()) }
            await refused("span_kind must be one of server, client, producer, consumer, internal or empty, not \"SERVER\"") {
                _ = try await reader.getOperations(
                    .with {
                        $0.service = "front"
                        $0.spanKind = "SERVER"
                    })
            }
            let dependencies = Jaeger_Storage_V2_DependencyReader.Client(wrapping: client)
            await refused("start_time must not be after end_time") {
                _ = try await dependencies.getDependencies(
                    .with {
                        $0.startTime = RemoteStorageQuery.timestamp(10)
                        $0.endTime = RemoteStorageQuery.timestamp(5)
                    })
            }
            // A huge window is no error: it is the whole store.
            var everything = Self.query(depth: 10_000)
            everything.durationMax = Google_Protobuf_Duration(seconds: .max, nanos: 999_999_999)
            let all = try await reader.findTraceIDs(.with { $0.query = everything }).traceIds
            #expect(all.count == 1)
            // search_depth 0 (a caller that left it unset) is the default depth, not an error.
            let unset = try await reader.findTraceIDs(.with { $0.query = Self.query(depth: 0) }).traceIds
            #expect(unset.count == 1)
        }
        await viewer.stop()
    }

    @Test func theTokenGuardsEverythingButHealth() async throws {
        let viewer = try await RunningViewer(token: "s3cret", servingRemoteStorage: true)
        try await viewer.store.write(Self.wideTrace(TraceID(high: 1, low: 1), count: 3))
        try await withRemoteStorage(viewer) { reader, client in
            await #expect { _ = try await reader.getServices(.init()) } throws: { ($0 as? RPCError)?.code == .unauthenticated }
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            let status = try await health.check(.with { $0.service = "jaeger.storage.v2.TraceReader" }).status
            #expect(status == .serving)
            let otlp = Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: client)
            await #expect { _ = try await otlp.export(.init()) } throws: { ($0 as? RPCError)?.code == .unauthenticated }
        }
        try await withRemoteStorage(viewer, token: "s3cret") { reader, _ in
            let services = try await reader.getServices(.init()).services
            #expect(services == ["back", "front"])
        }
        await viewer.stop()
    }

    @Test func capabilitiesHealthSummariesDependenciesAndWrites() async throws {
        let viewer = try await RunningViewer(servingRemoteStorage: true)
        try await viewer.store.write(Self.wideTrace(TraceID(high: 1, low: 1), count: 6))
        try await withRemoteStorage(viewer) { reader, client in
            let capabilities = try await Jaeger_Storage_V2_Capabilities.Client(wrapping: client).getCapabilities(.init())
            #expect(capabilities.search.withoutServiceName && capabilities.search.sameSpanConjunction)
            #expect(capabilities.search.filter.operators.isEmpty)

            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            for name in ["", "jaeger.storage.v2.TraceReader", "jaeger.storage.v2.DependencyReader", "jaeger.storage.v2.Capabilities"] {
                let status = try await health.check(.with { $0.service = name }).status
                #expect(status == .serving, "\(name)")
            }
            await #expect { _ = try await health.check(.with { $0.service = "nope" }) } throws: { ($0 as? RPCError)?.code == .notFound }
            let listed = try await health.list(.init()).statuses
            #expect(listed.count == RemoteStorageHealth.serviceNames.count)

            // The OTLP TraceService on the same port is Jaeger's write path: what it stores, the reader finds.
            let otlp = Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: client)
            _ = try await otlp.export(
                OTLPTraces(Self.wideTrace(TraceID(high: 2, low: 2), count: 4, start: 1_800_000_000_000_000_000)).request)
            let summaries = try await reader.findTraceSummaries(.with { $0.query = Self.query() }) { try await Array($0.messages) }
                .flatMap(\.summaries)
            #expect(summaries.map { TraceID(bytes: $0.traceID) } == [TraceID(high: 2, low: 2), TraceID(high: 1, low: 1)])
            #expect(summaries.last?.spanCount == 6)
            #expect(summaries.last?.rootOperationName == "root")
            #expect(summaries.last?.services.map { "\($0.name) \($0.spanCount)" }.sorted() == ["back 4", "front 2"])

            let dependencies = try await Jaeger_Storage_V2_DependencyReader.Client(wrapping: client).getDependencies(
                .with {
                    $0.startTime = RemoteStorageQuery.timestamp(0)
                    $0.endTime = RemoteStorageQuery.timestamp(UntrustedValue.maximumNanoseconds)
                }
            ).dependencies
            #expect(
                dependencies.map { "\($0.parent) -> \($0.child) \($0.callCount)" } == ["front -> back 6"],
                "4 calls in one trace, 2 in the other")
            let http = try await viewer.get("/api/dependencies?endTs=\(UInt64.max / 2_000_000)&lookback=\(UInt64.max / 2_000_000)")
            #expect((http.json["data"] as? [[String: Any]])?.first?["callCount"] as? Int == 6, "the HTTP API says the same")
        }
        await viewer.stop()
    }

    @Test func aHealthWatchHearsTheViewerStop() async throws {
        let viewer = try await RunningViewer(servingRemoteStorage: true)
        try await withRemoteStorage(viewer) { _, client in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            let statuses = try await health.watch(.with { $0.service = "jaeger.storage.v2.TraceReader" }) { response in
                var statuses: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
                for try await message in response.messages {
                    statuses.append(message.status)
                    if statuses.count == 1 { Task { await viewer.stop() } }
                }
                return statuses
            }
            #expect(statuses == [.serving, .notServing])
        }
    }
}
