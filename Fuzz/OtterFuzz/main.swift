import Foundation
import OtterViewer

// libFuzzer entry point: `scripts/fuzz.sh TARGET` builds this with `-sanitize=fuzzer,address` and runs it with
// OTTER_FUZZ_TARGET set to one of: otlp-protobuf, otlp-json, otlp-logs, block-scanner, query-parsers.
// Built without the fuzzer (a plain `swift build`), the program does nothing.
// (A static, not a global: under libFuzzer's own `main`, this file's top-level code never runs.)
enum Target {
    static let name = ProcessInfo.processInfo.environment["OTTER_FUZZ_TARGET"] ?? "otlp-protobuf"
}

/// libFuzzer calls this with each input: it runs the entry point `OTTER_FUZZ_TARGET` names and returns 0.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    switch Target.name {
    case "otlp-json": FuzzEntryPoints.otlpJSON(bytes)
    case "otlp-logs": FuzzEntryPoints.otlpLogs(bytes)
    case "block-scanner": FuzzEntryPoints.blockScanner(bytes)
    case "query-parsers": FuzzEntryPoints.queryParsers(bytes)
    default: FuzzEntryPoints.otlpProtobuf(bytes)
    }
    return 0
}
