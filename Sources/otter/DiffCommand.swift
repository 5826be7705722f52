import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import Otter
import OtterViewer

/// `otter diff A B`: two traces compared by structure and duration; exits 1 when B differs from A beyond the
/// thresholds, so it can gate CI ("this request now makes three more database calls", "this span got 40 % slower").
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two traces by structure and duration; exit 1 when they differ beyond the thresholds.",
        discussion: """
            A and B are files of OTLP JSON (an export request, the viewer's api_v3 download, or JSON Lines) or Jaeger \
            JSON, or trace ids in a running viewer (--viewer). A file holding several traces takes FILE#TRACEID. \
            Spans match by service, operation and position under matched parents. Exit status: 0 within the \
            thresholds, 1 beyond them, 2 when a trace cannot be read.
            """)

    @Argument(help: "The first trace (the baseline): a file, FILE#TRACEID, or a trace id in the viewer.")
    var a: String

    @Argument(help: "The second trace, compared with the first.")
    var b: String

    @Option(help: "Added plus missing spans allowed.")
    var maxSpanChanges = 0

    @Option(help: "Spans allowed to be errors in B that were not in A.")
    var maxNewErrors = 0

    @Option(
        help:
            "Fail when a span is slower than in A by more than this percentage (e.g. 40 or 40%). Default: durations are shown, not judged.")
    var maxSlowdown: String?

    @Option(help: "Judge durations only of spans at least this long in A (Go duration: 500us, 1ms, 2s).")
    var minDuration = "1ms"

    @Option(help: "The viewer that trace ids are read from.")
    var viewer = "http://127.0.0.1:16686"

    @Option(help: "How long to wait for the viewer's whole answer (Go duration).")
    var viewerTimeout = "30s"

    @Option(help: "Bearer token for the viewer (default: $OTTER_VIEWER_TOKEN).")
    var token: String?

    /// Files larger than this are refused (a trace file, not an archive): the viewer's bound on a request.
    static let maximumFileBytes = 64 << 20

    func run() async throws {
        var thresholds = TraceComparison.Thresholds(maximumSpanChanges: maxSpanChanges, maximumNewErrors: maxNewErrors)
        guard maxSpanChanges >= 0 else { throw ValidationError("--max-span-changes must be 0 or more") }
        guard maxNewErrors >= 0 else { throw ValidationError("--max-new-errors must be 0 or more") }
        if let maxSlowdown {
            let text = maxSlowdown.trimmingCharacters(in: .whitespaces)
            guard let percent = Double(text.hasSuffix("%") ? String(text.dropLast()) : text), percent.isFinite, percent >= 0,
                percent <= 1_000_000
            else { throw ValidationError("--max-slowdown \(maxSlowdown) is not a percentage (0 to 1000000, e.g. 40 or 40%)") }
            thresholds.maximumSlowdownPercent = percent
        }
        do {
            thresholds.minimumDurationNanoseconds = try UntrustedValue.duration("--min-duration", minDuration)
        } catch {
            throw ValidationError("\(error)")
        }

        let deadline: UInt64
        do {
            deadline = try UntrustedValue.duration("--viewer-timeout", viewerTimeout)
        } catch {
            throw ValidationError("\(error)")
        }
        guard deadline > 0 else { throw ValidationError("--viewer-timeout must be more than 0") }
        let spansA: [FinishedSpan]
        let spansB: [FinishedSpan]
        do {
            let timeout = Duration.nanoseconds(Int64(clamping: deadline))
            spansA = try await load(a, timeout: timeout)
            spansB = try await load(b, timeout: timeout)
        } catch let failure as DiffInputError {
            FileHandle.standardError.write(Data("otter diff: \(failure.description)\n".utf8))
            throw ExitCode(2)
        }
        let comparison = TraceComparison(spansA, spansB)
        print(comparison.report(thresholds, nameA: a, nameB: b), terminator: "")
        if !comparison.violations(thresholds).isEmpty { throw ExitCode(1) }
    }

    /// One trace from a file, FILE#TRACEID, or the viewer.
    func load(_ argument: String, timeout: Duration) async throws -> [FinishedSpan] {
        var path = argument
        var wanted: String?
        if !FileManager.default.fileExists(atPath: argument), let hash = argument.lastIndex(of: "#") {
            path = String(argument[..<hash])
            wanted = String(argument[argument.index(after: hash)...]).lowercased()
        }
        if FileManager.default.fileExists(atPath: path) {
            return try pick(from: try traces(inFile: path), wanted: wanted, source: argument)
        }
        guard (1...32).contains(argument.count), argument.allSatisfy(\.isHexDigit) else {
            throw DiffInputError("\(argument): no such file, and not a trace id (1 to 32 hex digits)")
        }
        return try await fetch(traceID: argument.lowercased(), timeout: timeout)
    }

    func traces(inFile path: String) throws -> [[FinishedSpan]] {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let attributes = try? FileManager.default.attributesOfItem(atPath: resolved)
        // A device, pipe or directory could be endless or unreadable: only regular files are read.
        guard attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw DiffInputError("\(path): not a regular file")
        }
        let size = attributes?[.size] as? Int ?? 0
        guard size <= Self.maximumFileBytes else {
            throw DiffInputError("\(path): \(size) bytes; trace files of at most \(Self.maximumFileBytes >> 20) MB are read")
        }
        guard let data = FileManager.default.contents(atPath: resolved) else { throw DiffInputError("\(path): cannot read the file") }
        do {
            return try TraceComparison.traces(inFile: data)
        } catch {
            throw DiffInputError("\(path): \(error)")
        }
    }

    func pick(from traces: [[FinishedSpan]], wanted: String?, source: String) throws -> [FinishedSpan] {
        let ids = traces.compactMap { $0.first?.spanContext.traceID.hexString }
        if let wanted {
            let padded = String(repeating: "0", count: max(0, 32 - wanted.count)) + wanted
            guard let index = ids.firstIndex(of: padded) else {
                throw DiffInputError("\(source): no trace \(wanted) in the file (it holds \(ids.prefix(10).joined(separator: ", ")))")
            }
            return traces[index]
        }
        guard traces.count == 1, let only = traces.first else {
            if traces.isEmpty { throw DiffInputError("\(source): the file holds no spans") }
            throw DiffInputError(
                "\(source): the file holds \(traces.count) traces; pick one as FILE#TRACEID (\(ids.prefix(10).joined(separator: ", ")))")
        }
        return only
    }

    func fetch(traceID: String, timeout: Duration) async throws -> [FinishedSpan] {
        let base = viewer.hasSuffix("/") ? String(viewer.dropLast()) : viewer
        guard let url = URL(string: "\(base)/api/traces/\(traceID)"), let scheme = url.scheme, ["http", "https"].contains(scheme) else {
            throw DiffInputError("--viewer \(viewer) is not an http:// or https:// URL")
        }
        if let port = url.port, !(1...65_535).contains(port) {
            throw DiffInputError("--viewer \(viewer): port \(port) is not a port number (1 to 65535)")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        if let token = token ?? ProcessInfo.processInfo.environment["OTTER_VIEWER_TOKEN"], !token.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        let answer: (status: UInt, body: ByteBuffer)
        do {
            let request = request
            let answered = try await withTimeout(timeout) {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3600))
                return (response.status.code, try await response.body.collect(upTo: Self.maximumFileBytes))
            }
            guard let answered else { throw DiffInputError("no complete answer within \(timeout)") }
            answer = answered
        } catch is NIOTooManyBytesError {
            throw DiffInputError("the viewer at \(base) answered more than \(Self.maximumFileBytes >> 20) MB for trace \(traceID)")
        } catch {
            throw DiffInputError("cannot read trace \(traceID) from the viewer at \(base): \(error)")
        }
        let (status, body) = answer
        guard status == 200 else {
            let detail = String(buffer: body).prefix(300)
            throw DiffInputError("the viewer at \(base) answered \(status) for trace \(traceID): \(detail)")
        }
        do {
            let traces = try TraceComparison.traces(inFile: Data(body.readableBytesView))
            return try pick(from: traces, wanted: traceID, source: "trace \(traceID)")
        } catch let failure as DiffInputError {
            throw failure
        } catch {
            throw DiffInputError("the viewer at \(base) did not answer Jaeger JSON for trace \(traceID): \(error)")
        }
    }
}

/// A trace that `otter diff` cannot read, said in a sentence.
struct DiffInputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
