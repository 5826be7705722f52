import Foundation
import Otter
import OtterOTLP
import Testing
import Tracing

@testable import OtterViewer

/// Every search parameter checked on a generated data set whose answers are known.
@Suite("Jaeger search", .serialized)
struct JaegerSearchTests {
    static let baseSeconds: UInt64 = 1_700_000_000

    /// 30 traces: trace i has a root in `frontend` named `GET /x{i % 3}` lasting i ms and starting at base + i s,
    /// and a child in `backend` with `customer.id = c{i % 5}`, failing when i % 7 == 0.
    static func dataSet() -> [FinishedSpan] {
        (0..<30).flatMap { index -> [FinishedSpan] in
            let traceID = TraceID(high: 0xABC, low: UInt64(index + 1))
            let start = (baseSeconds + UInt64(index)) * 1_000_000_000
            let root = FinishedSpan(
                operationName: "GET /x\(index % 3)", kind: .server,
                spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(UInt64(index * 2 + 1)), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + UInt64(index) * 1_000_000,
                resource: Resource(attributes: ["service.name": "frontend"]))
            let child = FinishedSpan(
                operationName: "load customer", kind: .client,
                spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(UInt64(index * 2 + 2)), traceFlags: .sampled),
                parentSpanContext: root.spanContext,
                startTimeNanosecondsSinceEpoch: start + 100, endTimeNanosecondsSinceEpoch: start + 200,
                attributes: ["customer.id": .string("c\(index % 5)"), "attempt": .int64(Int64(index % 2))],
                status: index % 7 == 0 ? SpanStatus(code: .error) : nil,
                resource: Resource(attributes: ["service.name": "backend", "deployment.environment": "staging"]))
            return [root, child]
        }
    }

    /// The trace indexes (0-based) a search returned, in answer order.
    func indexes(_ viewer: RunningViewer, _ parameters: String) async throws -> [Int] {
        let window = "start=\(Self.baseSeconds * 1_000_000)&end=\((Self.baseSeconds + 100) * 1_000_000)"
        let (status, body) = try await viewer.get("/api/traces?\(window)&\(parameters)")
        #expect(status == 200, "\(parameters): \(body)")
        let traces = body["data"] as? [[String: Any]] ?? []
        #expect(body["total"] as? Int == 0, "Jaeger sets total only for services and operations")
        return traces.compactMap { ($0["traceID"] as? String).flatMap { Int($0.suffix(16), radix: 16) }.map { $0 - 1 } }
    }

    /// Written at once (one block) or span by span, newest first (60 blocks whose order is not time order).
    @Test(arguments: [false, true])
    func everyParameterFiltersAsJaegerDoes(oneWritePerSpan: Bool) async throws {
        let viewer = try await RunningViewer()
        if oneWritePerSpan {
            for span in Self.dataSet().reversed() { try await viewer.store.write([span]) }
        } else {
            try await viewer.store.write(Self.dataSet())
        }

        #expect(try await indexes(viewer, "service=frontend") == Array((0..<30).reversed()), "most recent first")
        #expect(try await indexes(viewer, "service=frontend&limit=5") == [29, 28, 27, 26, 25])
        #expect(try await indexes(viewer, "service=frontend&operation=GET%20/x1") == (0..<30).filter { $0 % 3 == 1 }.reversed())
        #expect(
            try await indexes(viewer, "service=backend&tags=%7B%22customer.id%22%3A%22c2%22%7D")
                == (0..<30).filter { $0 % 5 == 2 }.reversed())
        #expect(
            try await indexes(viewer, "service=backend&tag=customer.id:c2&tag=attempt:0")
                == (0..<30).filter { $0 % 5 == 2 && $0 % 2 == 0 }.reversed())
        #expect(try await indexes(viewer, "service=backend&tag=error:true") == [28, 21, 14, 7, 0])
        #expect(try await indexes(viewer, "service=backend&tag=deployment.environment:staging").count == 30, "resource attributes are tags")
        #expect(try await indexes(viewer, "service=frontend&tag=customer.id:c2").isEmpty, "a tag must be on a span of the service")
        #expect(try await indexes(viewer, "service=frontend&minDuration=10ms&maxDuration=20ms") == Array((10...20).reversed()))
        #expect(try await indexes(viewer, "service=frontend&minDuration=0.025s") == Array((25..<30).reversed()))
        #expect(try await indexes(viewer, "service=frontend&maxDuration=1500us") == [1, 0])
        let window = "start=\((Self.baseSeconds + 10) * 1_000_000)&end=\((Self.baseSeconds + 19) * 1_000_000)"
        let (_, windowed) = try await viewer.get("/api/traces?service=frontend&\(window)")
        #expect((windowed["data"] as? [Any])?.count == 10)
        let (_, byIDs) = try await viewer.get(
            "/api/traces?traceID=\(TraceID(high: 0xABC, low: 3).hexString)&traceID=\(TraceID(high: 0xABC, low: 4).hexString)")
        #expect((byIDs["data"] as? [[String: Any]])?.count == 2)
        let (_, defaultWindow) = try await viewer.get("/api/traces?service=frontend")
        #expect((defaultWindow["data"] as? [Any])?.isEmpty == true, "without start, only the last 48 hours are searched")
        await viewer.stop()
    }

    @Test(arguments: [
        ("operation=x", "parameter 'service' is required"),
        ("service=a&minDuration=2s&maxDuration=1s", "'maxDuration' should be greater than 'minDuration'"),
        ("service=a&limit=many", "unable to parse param 'limit'"),
        ("service=a&start=yesterday", "unable to parse param 'start'"),
        ("service=a&minDuration=fast", "unable to parse param 'minDuration'"),
        ("service=a&tag=novalue", "expecting key:value"),
        ("service=a&tags=%7Bbroken", "cannot unmarshal JSON"),
        ("traceID=xyz", "cannot parse traceID"),
    ])
    func invalidSearchesAre400WithJaegersMessage(parameters: String, message: String) async throws {
        let viewer = try await RunningViewer()
        let (status, body) = try await viewer.get("/api/traces?\(parameters)")
        #expect(status == 400)
        let error = (body["errors"] as? [[String: Any]])?.first
        #expect((error?["msg"] as? String)?.contains(message) == true, "\(body)")
        #expect(error?["code"] as? Int == 400)
        await viewer.stop()
    }

    @Test func goDurations() throws {
        #expect(try UntrustedValue.duration("d", "1.5s") == 1_500_000_000)
        #expect(try UntrustedValue.duration("d", "1h2m") == 3_720_000_000_000)
        #expect(try UntrustedValue.duration("d", "500us") == 500_000)
        #expect(try UntrustedValue.duration("d", "500µs") == 500_000)
        #expect(try UntrustedValue.duration("d", "7ns") == 7)
        #expect(throws: InvalidParameter.self) { try UntrustedValue.duration("d", "5") }
        #expect(throws: InvalidParameter.self) { try UntrustedValue.duration("d", "5 days") }
    }
}
