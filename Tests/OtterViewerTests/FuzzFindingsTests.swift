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
}
