import Foundation
import Otter
import Testing

@testable import OtterViewer

/// `--max-size` holds as writes happen, not only when retention's periodic pass comes round.
@Suite("Store size bound at write time")
struct StoreSizeBoundTests {
    static let traceHigh: UInt64 = 0x5153

    /// 400 spans of one trace, each with 200 random (incompressible) hex characters.
    static func spans(trace: UInt64, start: UInt64) -> [FinishedSpan] {
        var generator = SystemRandomNumberGenerator()
        let traceID = TraceID(high: traceHigh, low: trace)
        return (0..<400).map { index in
            let payload = (0..<25).map { _ in String(UInt32.random(in: 0...UInt32.max, using: &generator), radix: 16) }.joined()
            return FinishedSpan(
                operationName: "write-\(index % 4)", kind: .internal,
                spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(trace << 16 | UInt64(index + 1)), traceFlags: .sampled),
                parentSpanContext: nil, startTimeNanosecondsSinceEpoch: start + UInt64(index),
                endTimeNanosecondsSinceEpoch: start + UInt64(index) + 1_000, attributes: ["payload": .string(payload)],
                resource: Resource(attributes: ["service.name": "bounded"]))
        }
    }

    static func bytesOnDisk(_ path: String) -> Int {
        [path, path + "-wal", path + ".reserve"].reduce(0) { total, file in
            total + (((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    @Test func writesNeverTakeTheDatabaseAndItsLogPastTheBound() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-size-bound-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("otter.sqlite").path
        let store = try SQLiteTraceStore(path: path)
        let bound = 1 << 20
        // No retention pass runs: whatever keeps the files within the bound is the write path's own doing.
        store.limitSize(to: bound)
        try await store.applySpaceLimit()
        let start: UInt64 = 1_800_000_000_000_000_000
        var largest = 0
        var written = 0
        for trace in 1...80 {
            try await store.write(Self.spans(trace: UInt64(trace), start: start + UInt64(trace) * 1_000_000_000))
            written += 400
            largest = max(largest, Self.bytesOnDisk(path))
        }
        #expect(written * 200 > 4 * bound, "the test writes several times the bound")
        #expect(largest <= bound, "database, write-ahead log and reserve reached \(largest) bytes, bound \(bound)")
        #expect(try await store.trace(TraceID(high: Self.traceHigh, low: 80)).count == 400, "the newest write is whole")
        #expect(try await store.trace(TraceID(high: Self.traceHigh, low: 1)).isEmpty, "the oldest went first")
    }
}
