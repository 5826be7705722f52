import Foundation
import Testing

@testable import OtterViewer

/// Every input a fuzzer (scripts/fuzz.sh) found that crashed a parser, kept as a test: each must now be refused
/// or read without trapping.
@Suite("Fuzz findings")
struct FuzzFindingsTests {
    static func bytes(_ base64: String) -> [UInt8] {
        Array(Data(base64Encoded: base64)!)
    }

    /// block-scanner: a length-delimited field whose length varint is 2^63 + 1 (`Int(UInt64)` trapped).
    @Test func blockWithAHugeFieldLength() {
        let input = Self.bytes("AgA6AAL///////////8EAA==")
        #expect(throws: SpanBlockScanner.Malformed.self) { try SpanBlockScanner(bytes: input).scan() }
        input.withUnsafeBytes { FuzzEntryPoints.blockScanner($0) }
    }

    /// otlp-protobuf: an attribute `KeyValue` without its key field. A decoder reads the key as "", the scanner found
    /// no key: a search by that attribute disagreed with the index (the scanner-versus-decoder check).
    @Test func anAttributeWithoutAKeyIsReadAsTheEmptyKey() throws {
        let input = Self.bytes(
            "CokDCjAKGgoMc2VydmljZS5uYW1lEgoKCGNoZWNrb3V0ChIKCWhvc3QubmFtZRIFCgNib3gSqwIKDAoFb3R0ZXISAzEuMBKaAgoQAQIDBAUGBwgJCgsMDQ4PEBIIAQIDBAUGBwgiCAkKCwwNDg8QKhBHRVQgL29yZGVycy97aWR9MAI5AAC0k3bi+hhBiBO0k3bi+hhKIAoZaHR0cC5yZXNwb25zZS5zdGF0dXNfY29kZRIDGMgBShcKCHVybC5wYXRoEgsKCS9vcmRlcnMvMUoICgJvaxICEAFKEgoFcmF0aW8SCSEAAAAAAADgP0oUCgR0YWdzEgwqCgoDCgFhCgMKAWJKDBoEYmxvYhIEOgIQ/1oaCQoAtJN24voYEgVldmVudBoICgFrEgMKAXZqKQoQAQIDBAUGBwgJCgsMDQ4PEBIICQoLDA0ODxAiCwoEbGluaxIDCgF4eggSBGJvb20YAhonaHR0cHM6Ly9vcGVudGVsZW1ldHJ5LmlvL3NjaGVtYXMvMS4yMS4w"
        )
        let scanner = SpanBlockScanner(bytes: input)
        let (spans, _) = try scanner.scan()
        let span = try #require(spans.first)
        #expect(try scanner.attributeText([], in: span.range, attributeField: 9) != nil)
        input.withUnsafeBytes { FuzzEntryPoints.otlpProtobuf($0) }
    }

    /// otlp-protobuf: a span carrying an unknown field of the group wire type, which decoders skip. The scanner could
    /// not skip it, so the block holding such a span could not be read back.
    @Test func aSpanWithAGroupFieldIsScanned() throws {
        let input = Self.bytes(
            "CokDCjAKGgoMc2VydmljZS5uYW1lEgoKCGNoZWNrb3V0ChIKCWhvc3QubmFtZRIFCgNib3gSqwIKDAoFb3R0ZXISAyguMBKaAgoQAQIDBAUGBwgJCgsMDQ4PEBIIAXNwb25zXC5zdGF0dXNfY29kZRIDGMgBShcKCHVybC5wYXRoEgsKCS9vcmRlcnMvMUoICgJvaxICEAFKEgoFcmF0aW8SCSEAAAAAYW3XZXJ2aXRFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVpIXQYEgVldmVudBoICgFrEgMKAXZqKQoQCgR0YWdzEgwqCgoDCgFhCgMKAWJKDAoEYmxvYhIEOgIA/1oaCQoAtJN24voYEgVldmVudBoICgFrEgMKAXZqKQoQAQIDBAUGBwgJCgsMDQ4PEBIICQoLDA0ODxAiCwoEbGluaxIDCgF4eggSBGJvb20YAhonaHR0cHM6Ly9vcGVudGVsZW0vb3JkZXJzL3tpZH0wAjkAMS4yMS4w"
        )
        #expect(throws: Never.self) { try SpanBlockScanner(bytes: input).scan() }
        input.withUnsafeBytes { FuzzEntryPoints.otlpProtobuf($0) }
        // Nested groups are skipped too; an end without a start is malformed, as for a decoder.
        #expect(throws: Never.self) { try SpanBlockScanner(bytes: [0x0A, 0x06, 0x12, 0x04, 0x1B, 0x1B, 0x1C, 0x1C]).scan() }
        #expect(throws: SpanBlockScanner.Malformed.self) { try SpanBlockScanner(bytes: [0x0A, 0x03, 0x12, 0x01, 0x1C]).scan() }
    }
}
