import Instrumentation
import Testing
import Tracing

@testable import Otter

/// A carrier like HTTP headers: case-insensitive names, appended values.
struct HeaderCarrier: Sendable {
    var fields: [(String, String)] = []

    subscript(name: String) -> String? {
        fields.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

struct HeaderExtractor: Extractor {
    func extract(key: String, from carrier: HeaderCarrier) -> String? { carrier[key] }
}

struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HeaderCarrier) {
        carrier.fields.append((key, value))
    }
}

@Suite("W3C trace context")
struct TraceContextPropagationTests {
    static let validTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    @Test func parsesTheSpecificationExample() throws {
        let context = try #require(W3CTraceContextPropagator.parseTraceparent(Self.validTraceparent))
        #expect(context.traceID.hexString == "0af7651916cd43dd8448eb211c80319c")
        #expect(context.spanID.hexString == "b7ad6b7169203331")
        #expect(context.isSampled)
        #expect(context.isRemote)
    }

    @Test func acceptsUnsampledAndRandomFlagBits() throws {
        let unsampled = try #require(
            W3CTraceContextPropagator.parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"))
        #expect(!unsampled.isSampled)
        // opentelemetry-python 1.45 sends 03: sampled plus the random-trace-id bit.
        let python = try #require(
            W3CTraceContextPropagator.parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03"))
        #expect(python.isSampled)
        #expect(python.traceFlags.contains(.randomTraceID))
    }

    @Test func acceptsAFutureVersionWithExtraFields() throws {
        let future = "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds"
        let context = try #require(W3CTraceContextPropagator.parseTraceparent(future))
        #expect(context.spanID.hexString == "b7ad6b7169203331")
        #expect(
            W3CTraceContextPropagator.parseTraceparent(
                "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") != nil)
    }

    /// The header is written and read eight digits at a time: every digit position must still take exactly the
    /// lowercase hex digits, whatever the neighbouring bytes hold.
    @Test func everyIDDigitAcceptsExactlyTheLowercaseHexDigits() {
        let valid = Array(Self.validTraceparent.utf8)
        let idPositions = Array(3..<35) + Array(36..<52)
        let lowercaseHex = Set("0123456789abcdef".utf8)
        var wronglyAccepted: [String] = []
        var wronglyRefused: [String] = []
        for position in idPositions {
            for byte in UInt8(0)...UInt8(0x7F) {
                var changed = valid
                changed[position] = byte
                let header = String(decoding: changed, as: UTF8.self)
                let parsed = W3CTraceContextPropagator.parseTraceparent(header)
                if lowercaseHex.contains(byte) {
                    let expected = String(decoding: changed[3..<35], as: UTF8.self)
                    if parsed?.traceID.hexString != expected { wronglyRefused.append(header) }
                } else if parsed != nil {
                    wronglyAccepted.append(header)
                }
            }
        }
        #expect(wronglyAccepted.isEmpty)
        #expect(wronglyRefused.isEmpty)
    }

    @Test func headersOfRandomIDsRoundTripAndMatchTheDigitsOfEachID() throws {
        var generator = SystemRandomNumberGenerator()
        func digits(_ value: UInt64) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        for round in 0..<2_000 {
            // Every fourth id has runs of zero and f bytes, the values next to the digit/letter boundary.
            let high: UInt64 = round % 4 == 0 ? 0x00FF_9A09_F0A0_0F90 : .random(in: 1...UInt64.max, using: &generator)
            let low = UInt64.random(in: 0...UInt64.max, using: &generator)
            let span = UInt64.random(in: 1...UInt64.max, using: &generator)
            let context = OtterSpanContext(
                traceID: TraceID(high: high, low: low), spanID: SpanID(span), traceFlags: .sampled)
            let header = context.traceparentHeaderValue
            #expect(header == "00-\(digits(high))\(digits(low))-\(digits(span))-01")
            let parsed = try #require(W3CTraceContextPropagator.parseTraceparent(header))
            #expect(parsed.traceID == context.traceID)
            #expect(parsed.spanID == context.spanID)
        }
    }

    @Test(arguments: [
        ("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "version ff is forbidden"),
        ("00-00000000000000000000000000000000-b7ad6b7169203331-01", "all-zero trace id"),
        ("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", "all-zero span id"),
        ("00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01", "trace id too short"),
        ("00-0af7651916cd43dd8448eb211c80319cc-b7ad6b7169203331-01", "trace id too long"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01", "span id too short"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033311-01", "span id too long"),
        ("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", "uppercase trace id"),
        ("00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01", "uppercase span id"),
        ("0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "uppercase version"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0G", "flags not hex"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", "extra fields in version 00"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1", "flags too short"),
        ("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01.extra", "future version without dash"),
        ("00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01", "wrong separators"),
        ("0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "version too short"),
        ("", "empty"),
        ("00-xyz7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "not hex"),
    ])
    func rejectsInvalidTraceparent(value: String, reason: String) {
        #expect(W3CTraceContextPropagator.parseTraceparent(value) == nil, "\(reason)")
    }

    @Test func extractedContextCarriesTraceStateAndInjectsBack() throws {
        var carrier = HeaderCarrier()
        carrier.fields = [("Traceparent", Self.validTraceparent), ("tracestate", "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")]
        var context = InstrumentationContext.topLevel
        W3CTraceContextPropagator().extract(carrier, into: &context, using: HeaderExtractor())
        let extracted = try #require(context.otterSpanContext)
        #expect(extracted.traceState["congo"] == "t61rcWkgMzE")
        #expect(extracted.traceState["rojo"] == "00f067aa0ba902b7")

        var out = HeaderCarrier()
        W3CTraceContextPropagator().inject(context, into: &out, using: HeaderInjector())
        #expect(out["traceparent"] == Self.validTraceparent)
        #expect(out["tracestate"] == "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
    }

    @Test func invalidTraceparentExtractsNothing() {
        var carrier = HeaderCarrier()
        carrier.fields = [("traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01"), ("tracestate", "a=b")]
        var context = InstrumentationContext.topLevel
        W3CTraceContextPropagator().extract(carrier, into: &context, using: HeaderExtractor())
        #expect(context.otterSpanContext == nil)
    }

    @Test func traceStateLimits() throws {
        let thirtyTwo = (0..<32).map { "k\($0)=v\($0)" }.joined(separator: ",")
        #expect(TraceState(headerValue: thirtyTwo)?.entries.count == 32)
        let thirtyThree = thirtyTwo + ",k32=v32"
        #expect(TraceState(headerValue: thirtyThree) == nil, "more than 32 members is invalid")
        #expect(TraceState(headerValue: "a=1,a=2") == nil, "duplicate keys are invalid")
        #expect(TraceState(headerValue: "A=1") == nil, "uppercase keys are invalid")
        #expect(TraceState(headerValue: "a=b=c") == nil, "= in a value is invalid")
        #expect(TraceState(headerValue: "a=1 ,, b=2")?.entries.count == 2, "empty members and white space are allowed")
        #expect(TraceState(headerValue: "tenant@system=1")?["tenant@system"] == "1")
        #expect(TraceState(headerValue: "t@\(String(repeating: "s", count: 15))=1") == nil, "system part over 14")
        #expect(TraceState(headerValue: "\(String(repeating: "k", count: 257))=1") == nil, "key over 256")
        #expect(TraceState(headerValue: "k=\(String(repeating: "v", count: 257))") == nil, "value over 256")
        #expect(TraceState(headerValue: "k=\(String(repeating: "v", count: 256))") != nil)

        let full = try #require(TraceState(headerValue: thirtyTwo))
        let updated = try #require(full.setting("new", to: "1"))
        #expect(updated.entries.count == 32)
        #expect(updated.entries.first?.key == "new")
        #expect(updated["k31"] == nil, "the right-most member makes room")
        #expect(full.setting("Bad", to: "1") == nil)
    }

    @Test func baggageRoundTripsWithPercentEncoding() throws {
        var carrier = HeaderCarrier()
        carrier.fields = [("baggage", "userId=alice, serverNode = DF%2028 ;prop=1,bad key=x,isProduction=false")]
        var context = InstrumentationContext.topLevel
        W3CBaggagePropagator().extract(carrier, into: &context, using: HeaderExtractor())
        let baggage = try #require(context.baggage)
        #expect(baggage["userId"] == "alice")
        #expect(baggage["serverNode"] == "DF 28")
        #expect(baggage["isProduction"] == "false")
        #expect(baggage["bad key"] == nil)

        var out = HeaderCarrier()
        W3CBaggagePropagator().inject(context, into: &out, using: HeaderInjector())
        let header = try #require(out["baggage"])
        #expect(header.contains("serverNode=DF%2028;prop=1"))
        #expect(Baggage(headerValue: header)["serverNode"] == "DF 28")
    }

    @Test func baggageMadeOfEntriesKeepsTheirMetadata() {
        let baggage = Baggage(entries: [
            .init(key: "tenant", value: "a", metadata: "ttl=10"), .init(key: "user", value: "alice"),
            .init(key: "tenant", value: "b", metadata: "ttl=20"),
        ])
        #expect(baggage.entries.map(\.key) == ["tenant", "user"], "one member per key, in first position")
        #expect(baggage.entries.first == .init(key: "tenant", value: "b", metadata: "ttl=20"), "the last value and its metadata")
        #expect(baggage.headerValue == "tenant=b;ttl=20,user=alice")
    }

    @Test func baggageHeaderStaysWithinLimits() {
        var baggage = Baggage()
        for index in 0..<300 { baggage["key\(index)"] = String(repeating: "v", count: 60) }
        let header = baggage.headerValue
        #expect(header.utf8.count <= Baggage.maximumHeaderLength)
        #expect(header.split(separator: ",").count <= Baggage.maximumEntryCount)
    }

    @Test func b3SingleAndMultipleHeaders() throws {
        var single = HeaderCarrier()
        single.fields = [("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90")]
        var context = InstrumentationContext.topLevel
        B3Propagator().extract(single, into: &context, using: HeaderExtractor())
        let fromSingle = try #require(context.otterSpanContext)
        #expect(fromSingle.traceID.hexString == "80f198ee56343ba864fe8b2a57d3eff7")
        #expect(fromSingle.spanID.hexString == "e457b5a2e4d86bd1")
        #expect(fromSingle.isSampled)

        var multiple = HeaderCarrier()
        multiple.fields = [("X-B3-TraceId", "a3ce929d0e0e4736"), ("X-B3-SpanId", "00f067aa0ba902b7"), ("X-B3-Sampled", "0")]
        var multipleContext = InstrumentationContext.topLevel
        B3Propagator().extract(multiple, into: &multipleContext, using: HeaderExtractor())
        let fromMultiple = try #require(multipleContext.otterSpanContext)
        #expect(fromMultiple.traceID.hexString == "0000000000000000a3ce929d0e0e4736", "64-bit ids are left-padded")
        #expect(!fromMultiple.isSampled)

        var out = HeaderCarrier()
        B3Propagator(encoding: .multipleHeaders).inject(context, into: &out, using: HeaderInjector())
        #expect(out["X-B3-TraceId"] == "80f198ee56343ba864fe8b2a57d3eff7")
        #expect(out["X-B3-SpanId"] == "e457b5a2e4d86bd1")
        #expect(out["X-B3-Sampled"] == "1")
        var singleOut = HeaderCarrier()
        B3Propagator(encoding: .singleHeader).inject(context, into: &singleOut, using: HeaderInjector())
        #expect(singleOut["b3"] == "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")
    }

    @Test func tracerContinuesAnExtractedTrace() async throws {
        let exporter = InMemorySpanExporter()
        let processor = SimpleSpanProcessor(exporter: exporter)
        let tracer = OtterTracer(processor: processor)
        var carrier = HeaderCarrier()
        carrier.fields = [("traceparent", Self.validTraceparent)]
        var context = InstrumentationContext.topLevel
        tracer.extract(carrier, into: &context, using: HeaderExtractor())
        let span = tracer.startSpan("handle", context: context, ofKind: .server)
        var injected = HeaderCarrier()
        tracer.inject(span.context, into: &injected, using: HeaderInjector())
        span.end()
        #expect(await tracer.forceFlush(timeout: .seconds(60)))

        let finished = try #require(exporter.exportedSpans.first)
        #expect(finished.spanContext.traceID.hexString == "0af7651916cd43dd8448eb211c80319c")
        #expect(finished.parentSpanContext?.spanID.hexString == "b7ad6b7169203331")
        #expect(finished.parentSpanContext?.isRemote == true)
        #expect(injected["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-\(finished.spanContext.spanID.hexString)-01")
    }
}
