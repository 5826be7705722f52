import Foundation
import Otter
import SwiftProtobuf
import Synchronization
import Testing
import Tracing

@testable import OtterOTLP

/// The one-pass protobuf encoder against swift-protobuf's serialization of the same message, where a message's
/// length needs more or fewer bytes than the encoder reserved for it.
@Suite struct OTLPProtobufEncoderTests {
    /// As long as what swift-protobuf writes for the message `OTLPMapping` builds (lengths as minimal varints; the
    /// attributes may come in another order, as a dictionary's), and it decodes to the same spans as that does.
    func expectSameBytesAsSwiftProtobuf(_ spans: [FinishedSpan], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let direct = OTLPProtobufEncoder.encode(spans)
        let viaMessages: [UInt8] = try OTLPMapping.request(for: spans).serializedBytes()
        #expect(direct.count == viaMessages.count, sourceLocation: sourceLocation)
        let decoded = try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: direct))
        let decodedViaMessages = try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: viaMessages))
        expectSameSpans(decoded, decodedViaMessages, sourceLocation: sourceLocation)
    }

    @Test(arguments: [0, 1, 100, 127, 128, 300, 16_383, 16_384, 20_000, 2_097_152, 2_100_000])
    func aSpanWithAnAttributeOfEverySizeEncodesAsSwiftProtobufDoes(length: Int) throws {
        var span = OTLPFixtures.client
        span.attributes["payload"] = String(repeating: "x", count: length)
        span.attributes["list"] = SpanAttribute.stringArray([String(repeating: "y", count: length % 300), "z"])
        try expectSameBytesAsSwiftProtobuf([span, OTLPFixtures.server])
    }

    @Test func aSpanWithNoAttributesEventsOrLinksEncodesAsSwiftProtobufDoes() throws {
        var span = OTLPFixtures.client
        span.attributes = [:]
        span.events = []
        span.links = []
        span.status = nil
        span.resource = Resource(attributes: [:])
        try expectSameBytesAsSwiftProtobuf([span])
    }

    /// `FinishedSpan`'s dropped counts are public `Int`s: negative or huge values are clamped into OTLP's `uint32`
    /// as the mapping does, never a trap (found by the independent review).
    @Test(arguments: [-1, Int.min, Int(UInt32.max) + 1, Int.max])
    func droppedCountsOutsideUInt32AreClampedNotTrapped(count: Int) throws {
        var span = OTLPFixtures.server
        span.droppedAttributesCount = count
        span.droppedEventsCount = count
        span.droppedLinksCount = count
        span.links[0].droppedAttributesCount = count
        try expectSameBytesAsSwiftProtobuf([span])
        let decoded = try OTLPExportTraceServiceRequest(serializedBytes: OTLPProtobufEncoder.encode([span]))
        let otlpSpan = try #require(decoded.resourceSpans.first?.scopeSpans.first?.spans.first)
        let expected: UInt32 = count < 0 ? 0 : .max
        #expect(otlpSpan.droppedAttributesCount == expected)
        #expect(otlpSpan.droppedEventsCount == expected)
        #expect(otlpSpan.droppedLinksCount == expected)
        #expect(otlpSpan.links.first?.droppedAttributesCount == expected)
    }

    @Test func anEmptyBatchIsAnEmptyRequest() {
        #expect(OTLPProtobufEncoder.encode([]).isEmpty)
    }

    /// A `CustomStringConvertible` attribute whose description changes between calls (a counter, a clock) is
    /// described once, so the length written is the length of the text that follows.
    @Test func aDescriptionThatChangesOnEveryCallStillEncodesAValidMessage() throws {
        final class Growing: CustomStringConvertible, Sendable {
            let calls = Mutex(0)
            var description: String {
                calls.withLock { calls in
                    calls += 1
                    return String(repeating: "n", count: calls * 200)
                }
            }
        }
        let growing = Growing()
        var span = OTLPFixtures.client
        span.attributes["growing"] = SpanAttribute.stringConvertible(growing)
        let direct = OTLPProtobufEncoder.encode([span])
        let decoded = try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: direct))
        #expect(growing.calls.withLock { $0 } == 1)
        #expect(decoded.first?.attributes["growing"]?.toSpanAttribute() == .string(String(repeating: "n", count: 200)))
    }

    /// Many shapes of batch, from a seeded generator: every length boundary, empty and nested values, several
    /// resources and scopes, events and links with attributes.
    @Test func randomBatchesEncodeAsSwiftProtobufDoes() throws {
        var random = SplitMix64(seed: 0x0717_7e12)
        for _ in 0..<60 {
            let spans = (0..<Int(random.next() % 6)).map { _ in RandomSpans.span(&random) }
            try expectSameBytesAsSwiftProtobuf(spans)
        }
    }
}

/// A small seeded generator (SplitMix64), so a failing batch is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RandomSpans {
    /// Text whose length is near a varint boundary (127/128, 16383/16384) or small, with multi-byte characters.
    static func text(_ random: inout SplitMix64) -> String {
        let lengths = [0, 1, 5, 126, 127, 128, 129, 16_382, 16_383, 16_384]
        let length = lengths[Int(random.next() % UInt64(lengths.count))]
        return random.next() % 4 == 0 ? String(repeating: "é", count: length / 2) : String(repeating: "a", count: length)
    }

    static func value(_ random: inout SplitMix64) -> SpanAttribute {
        switch random.next() % 10 {
        case 0: return .string(text(&random))
        case 1: return .int64(Int64(bitPattern: random.next()))
        case 2: return .int32(Int32(truncatingIfNeeded: random.next()))
        case 3: return .double(Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF))
        case 4: return .bool(random.next() % 2 == 0)
        case 5: return .stringArray((0..<Int(random.next() % 4)).map { _ in text(&random) })
        case 6: return .int64Array((0..<Int(random.next() % 4)).map { _ in Int64(bitPattern: random.next()) })
        case 7: return .boolArray((0..<Int(random.next() % 4)).map { _ in random.next() % 2 == 0 })
        case 8: return .doubleArray((0..<Int(random.next() % 4)).map { _ in Double(random.next() % 1000) / 8 })
        default: return .stringConvertible(random.next())
        }
    }

    static func attributes(_ random: inout SplitMix64) -> SpanAttributes {
        var attributes = SpanAttributes()
        for index in 0..<Int(random.next() % 6) { attributes["key.\(index).\(text(&random).prefix(3))"] = value(&random) }
        return attributes
    }

    static func context(_ random: inout SplitMix64) -> OtterSpanContext {
        OtterSpanContext(
            traceID: TraceID(high: random.next() | 1, low: random.next()), spanID: SpanID(random.next() | 1),
            traceFlags: random.next() % 2 == 0 ? .sampled : [],
            traceState: random.next() % 3 == 0 ? TraceState(headerValue: "k=\(random.next() % 100)")! : TraceState(),
            isRemote: random.next() % 2 == 0)
    }

    static func span(_ random: inout SplitMix64) -> FinishedSpan {
        let resources = [OTLPFixtures.resource, Resource(attributes: ["service.name": "other"]), Resource(attributes: [:])]
        let scopes = [InstrumentationScope.otter, InstrumentationScope(name: "hummingbird", version: "2.28.1")]
        let start = random.next() % (1 << 62)
        return FinishedSpan(
            operationName: text(&random), kind: [.server, .client, .internal, .producer, .consumer][Int(random.next() % 5)],
            spanContext: context(&random), parentSpanContext: random.next() % 2 == 0 ? context(&random) : nil,
            startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + random.next() % 1_000_000_000,
            attributes: attributes(&random),
            events: (0..<Int(random.next() % 3)).map { _ in
                SpanEvent(
                    name: text(&random), at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: random.next() % (1 << 62)),
                    attributes: attributes(&random))
            },
            links: (0..<Int(random.next() % 3)).map { _ in
                FinishedSpan.Link(
                    spanContext: context(&random), attributes: attributes(&random),
                    droppedAttributesCount: Int(random.next() % 3))
            },
            status: [nil, SpanStatus(code: .ok), SpanStatus(code: .error, message: text(&random))][Int(random.next() % 3)],
            droppedAttributesCount: Int(random.next() % 300), droppedEventsCount: Int(random.next() % 2),
            droppedLinksCount: Int(random.next() % 2), resource: resources[Int(random.next() % 3)],
            instrumentationScope: scopes[Int(random.next() % 2)])
    }
}
