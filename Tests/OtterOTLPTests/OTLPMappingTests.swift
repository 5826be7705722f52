import Foundation
import Otter
import OtterTestSupport
import SwiftProtobuf
import Testing
import Tracing

@testable import OtterOTLP

func expectSameSpans(_ decoded: [FinishedSpan], _ original: [FinishedSpan], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(decoded.count == original.count, sourceLocation: sourceLocation)
    for (actual, expected) in zip(decoded, original) {
        #expect(actual.operationName == expected.operationName, sourceLocation: sourceLocation)
        #expect(actual.kind == expected.kind, sourceLocation: sourceLocation)
        #expect(actual.spanContext == expected.spanContext, sourceLocation: sourceLocation)
        #expect(actual.parentSpanContext == expected.parentSpanContext, sourceLocation: sourceLocation)
        #expect(actual.startTimeNanosecondsSinceEpoch == expected.startTimeNanosecondsSinceEpoch, sourceLocation: sourceLocation)
        #expect(actual.endTimeNanosecondsSinceEpoch == expected.endTimeNanosecondsSinceEpoch, sourceLocation: sourceLocation)
        #expect(actual.attributes == expected.attributes, sourceLocation: sourceLocation)
        #expect(actual.events == expected.events, sourceLocation: sourceLocation)
        #expect(actual.links == expected.links, sourceLocation: sourceLocation)
        #expect(actual.status == expected.status, sourceLocation: sourceLocation)
        #expect(actual.droppedAttributesCount == expected.droppedAttributesCount, sourceLocation: sourceLocation)
        #expect(actual.droppedEventsCount == expected.droppedEventsCount, sourceLocation: sourceLocation)
        #expect(actual.droppedLinksCount == expected.droppedLinksCount, sourceLocation: sourceLocation)
        #expect(actual.resource == expected.resource, sourceLocation: sourceLocation)
        #expect(actual.instrumentationScope == expected.instrumentationScope, sourceLocation: sourceLocation)
    }
}

@Suite("OTLP mapping and encodings")
struct OTLPMappingTests {
    @Test func groupsByResourceAndScope() {
        var otherResource = OTLPFixtures.client
        otherResource.resource = Resource(attributes: ["service.name": "other"])
        let request = OTLPMapping.request(for: OTLPFixtures.spans + [otherResource])
        #expect(request.resourceSpans.count == 2)
        #expect(request.resourceSpans[0].scopeSpans.map(\.scope.name) == ["hummingbird", "otter"])
        #expect(request.resourceSpans[0].schemaURL == "https://opentelemetry.io/schemas/1.26.0")
        #expect(request.resourceSpans[1].scopeSpans.first?.spans.map(\.name) == ["SELECT orders"])
    }

    @Test func spanFieldsAndFlags() throws {
        let span = OTLPMapping.span(for: OTLPFixtures.server)
        #expect(span.traceID.count == 16)
        #expect(span.parentSpanID == Data([0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73]))
        #expect(span.flags == 0x301, "sampled, has-is-remote, parent is remote")
        #expect(OTLPMapping.span(for: OTLPFixtures.client).flags == 0x101, "local parent")
        #expect(span.kind == .server)
        #expect(span.traceState == "vendor=abc,other=1")
        #expect(span.status.code == .ok)
        #expect(span.links.first?.flags == 0x301)
        #expect(span.attributes.first { $0.key == "sizes" }?.value.arrayValue.values.map(\.intValue) == [1, 2, 3])
    }

    @Test func protobufRoundTripKeepsEveryField() throws {
        let bytes: [UInt8] = try OTLPMapping.request(for: OTLPFixtures.spans).serializedBytes()
        let decoded = try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: bytes))
        expectSameSpans(decoded, OTLPFixtures.spans)
    }

    @Test func directProtobufEncoderWritesTheSameMessage() throws {
        var withEverything = OTLPFixtures.spans
        withEverything[1].attributes["negative"] = -5
        withEverything[1].attributes["int32"] = SpanAttribute.int32(-7)
        withEverything[1].attributes["int32s"] = SpanAttribute.int32Array([1, -1])
        withEverything[1].attributes["empty"] = ""
        withEverything[1].startTimeNanosecondsSinceEpoch = 0
        var otherResource = OTLPFixtures.client
        otherResource.resource = Resource(attributes: ["service.name": "other"])
        let spans = withEverything + [otherResource, OTLPFixtures.server]

        let direct = OTLPProtobufEncoder.encode(spans)
        let decoded = try OTLPExportTraceServiceRequest(serializedBytes: direct)
        let viaMessages = try OTLPExportTraceServiceRequest(serializedBytes: OTLPMapping.request(for: spans).serializedBytes() as [UInt8])
        expectSameSpans(try OTLPReading.finishedSpans(from: decoded), try OTLPReading.finishedSpans(from: viaMessages))
        #expect(decoded.resourceSpans.count == 2)
        #expect(
            decoded.resourceSpans.map { $0.scopeSpans.map(\.spans.count) }
                == viaMessages.resourceSpans.map { $0.scopeSpans.map(\.spans.count) })
        #expect(
            direct.count == (try OTLPMapping.request(for: spans).serializedBytes() as [UInt8]).count, "same size: nothing extra or missing")
    }

    @Test func jsonRoundTripKeepsEveryField() throws {
        let json = OTLPJSON.encode(OTLPMapping.request(for: OTLPFixtures.spans))
        let decoded = try OTLPReading.finishedSpans(from: OTLPJSON.decodeRequest(json))
        expectSameSpans(decoded, OTLPFixtures.spans)
    }

    @Test func jsonUsesHexIDsIntegerEnumsAndStringInt64s() throws {
        let text = String(decoding: OTLPJSON.encode(OTLPMapping.request(for: [OTLPFixtures.client])), as: UTF8.self)
        #expect(text.contains(#""traceId":"5b8efff798038103d269b633813fc60c""#))
        #expect(text.contains(#""spanId":"00f067aa0ba902b7""#))
        #expect(text.contains(#""parentSpanId":"eee19b7ec3c1b174""#))
        #expect(text.contains(#""kind":3"#))
        #expect(text.contains(#""status":{"message":"disk full","code":2}"#))
        #expect(text.contains(#""startTimeUnixNano":"1700000000130000000""#))
        #expect(text.contains(#"{"key":"quote","value":{"stringValue":"say \"hi\"\n"}}"#))
        let tree = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(tree?["resourceSpans"] != nil, "the output is valid JSON")
    }

    /// A bad hex id refuses only its span (reported for OTLP's partial_success), as a wrong-length id in protobuf does.
    @Test(arguments: [
        (#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"00f067aa0ba902b7","name":"x"}]}]}]}"#, "invalid trace id"),
        (
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"00f067aa0ba902","name":"x"}]}]}]}"#,
            "invalid span id"
        ),
    ])
    func badHexIDsRefuseTheirSpan(body: String, mentions: String) throws {
        let read = OTLPReading.readSpans(from: try OTLPJSON.decodeRequest(Data(body.utf8)))
        #expect(read.spans.isEmpty)
        #expect(read.rejections.count == 1 && read.rejections[0].contains(mentions), "\(read.rejections)")
    }

    @Test(arguments: [
        (#"{"resourceSpans": 3}"#, "ExportTraceServiceRequest"),
        ("not json", "not valid JSON"),
        ("[1,2]", "not a JSON object"),
    ])
    func malformedJSONIsAClearError(body: String, mentions: String) {
        do {
            _ = try OTLPJSON.decodeRequest(Data(body.utf8))
            Issue.record("expected an error for \(body)")
        } catch {
            #expect("\(error)".contains(mentions), "\(error)")
        }
    }

    @Test func invalidIDsAreRejectedWhenMapping() throws {
        var request = OTLPMapping.request(for: [OTLPFixtures.client])
        request.resourceSpans[0].scopeSpans[0].spans[0].traceID = Data(repeating: 0, count: 16)
        #expect(throws: OTLPReading.InvalidSpan.self) { try OTLPReading.finishedSpans(from: request) }
        request.resourceSpans[0].scopeSpans[0].spans[0].traceID = Data(repeating: 1, count: 15)
        #expect(throws: OTLPReading.InvalidSpan.self) { try OTLPReading.finishedSpans(from: request) }
    }

    @Test func unknownJSONFieldsAreIgnored() throws {
        let body =
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"00f067aa0ba902b7","name":"x","kind":2,"futureField":1,"startTimeUnixNano":1}]}]}],"extra":true}"#
        let spans = try OTLPReading.finishedSpans(from: OTLPJSON.decodeRequest(Data(body.utf8)))
        #expect(spans.first?.operationName == "x")
        #expect(spans.first?.kind == .server)
        #expect(spans.first?.startTimeNanosecondsSinceEpoch == 1, "int64 accepted as a number too")
    }
}
