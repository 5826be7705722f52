import Foundation
import Otter
import Synchronization
import Testing

/// What comparing a trace with its golden file found.
public enum GoldenTraceComparison: Equatable, Sendable {
    /// The trace matches the file.
    case matched
    /// The file was written: record mode, or there was none (which fails the test: check the new file in).
    case recorded(path: String, wasMissing: Bool)
    /// The trace differs from the file; `diff` shows how (`-` golden, `+` recorded).
    case different(path: String, diff: String)
}

/// Golden files: `GoldenTraces/NAME.trace` next to the test file, compared on every run and rewritten in record
/// mode (`OTTER_RECORD_GOLDEN=1`, or `record: true`).
public enum GoldenTraceFile {
    /// The environment variable that turns record mode on for every golden comparison.
    public static let recordVariable = "OTTER_RECORD_GOLDEN"

    /// Compares `trace`'s golden form with `directory/NAME.trace`, writing the file in record mode or when it is
    /// missing.
    public static func compare(
        _ trace: RecordedTrace, named name: String, in directory: URL, options: GoldenTraceOptions = .init(),
        record: Bool? = nil
    ) throws -> GoldenTraceComparison {
        guard !name.isEmpty, name.count <= 200,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), !name.hasPrefix(".")
        else { throw GoldenTraceError.invalidName(name) }
        let file = directory.appendingPathComponent(name + ".trace")
        let recorded = header + (try GoldenTraceWriter(trace: trace, options: options).text())
        let recording = record ?? isRecordModeOn(ProcessInfo.processInfo.environment)
        let existing = try? String(contentsOf: file, encoding: .utf8)
        if recording || existing == nil {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(recorded.utf8).write(to: file, options: .atomic)
            return .recorded(path: file.path, wasMissing: existing == nil)
        }
        // An editor or git may have changed the line endings or the last newline: that is not a difference.
        guard let existing = existing.map(Self.normalized), existing != recorded else { return .matched }
        return .different(path: file.path, diff: LineDiff.unified(old: existing, new: recorded))
    }

    /// The golden form of `trace`, as a golden file holds it (without the file's comment line).
    public static func text(of trace: RecordedTrace, options: GoldenTraceOptions = .init()) throws -> String {
        try GoldenTraceWriter(trace: trace, options: options).text()
    }

    static func normalized(_ text: String) -> String {
        var text = text.replacingOccurrences(of: "\r\n", with: "\n")
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        return text
    }

    /// Which comparison (file and line of the call) first used each golden file in this run.
    private static let claims = Mutex<[String: String]>([:])

    /// Claims `path` for the caller at `location`; returns the other caller when another comparison used the file
    /// first in this run (two tests sharing one golden file overwrite each other's recording).
    static func claim(_ path: String, by location: String) -> String? {
        claims.withLock { claims in
            if let owner = claims[path], owner != location { return owner }
            claims[path] = location
            return nil
        }
    }

    static let header = "# Golden trace (OtterTesting). Rewrite with OTTER_RECORD_GOLDEN=1 after a change you mean.\n"

    static func isRecordModeOn(_ environment: [String: String]) -> Bool {
        guard let value = environment[recordVariable]?.lowercased() else { return false }
        return ["1", "true", "yes", "all"].contains(value)
    }

    /// The message a failed comparison reports; nil when it passed.
    static func failure(_ comparison: GoldenTraceComparison) -> String? {
        switch comparison {
        case .matched, .recorded(_, wasMissing: false):
            return nil
        case .recorded(let path, wasMissing: true):
            return "No golden trace at \(path): recorded it now. Check the file, commit it, and run the test again."
        case .different(let path, let diff):
            return "The trace differs from its golden file \(path) (\(recordVariable)=1 rewrites it):\n\(diff)"
        }
    }
}

/// Why a golden comparison could not run.
public enum GoldenTraceError: Error, Equatable, CustomStringConvertible {
    case invalidName(String)
    case tooLarge(spans: Int)
    case tooDeep(depth: Int)

    /// What went wrong and the limit that was broken, in one sentence.
    public var description: String {
        switch self {
        case .invalidName(let name):
            return "golden trace name \(JSONText.quoted(name)) must be 1 to 200 letters, digits, '-', '_' or '.'"
        case .tooLarge(let spans):
            return "a golden trace holds at most \(GoldenTraceWriter.maximumSpans) spans; this one has \(spans) "
                + "(assert on its shape with RecordedTrace's queries instead)"
        case .tooDeep(let depth):
            return "a golden trace nests at most \(GoldenTraceWriter.maximumDepth) levels below its root; this one nests \(depth)"
        }
    }
}

extension RecordedTrace {
    /// Compares the trace with its golden file `GoldenTraces/NAME.trace` next to the calling test file, and records
    /// a Swift Testing issue with a diff of the two trees when they differ (or when there was no file: it is then
    /// written, for you to check and commit). With `OTTER_RECORD_GOLDEN=1` the files are rewritten instead.
    @discardableResult
    public func expectMatchesGolden(
        _ name: String, options: GoldenTraceOptions = .init(), record: Bool? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> GoldenTraceComparison? {
        let directory = URL(fileURLWithPath: sourceLocation.filePath).deletingLastPathComponent()
            .appendingPathComponent("GoldenTraces")
        let path = directory.appendingPathComponent(name + ".trace").path
        if let owner = GoldenTraceFile.claim(path, by: "\(sourceLocation.fileID):\(sourceLocation.line)") {
            Issue.record(
                "The golden trace \(name) is already compared at \(owner) in this run; give each comparison a name of its own",
                sourceLocation: sourceLocation)
            return nil
        }
        do {
            let comparison = try GoldenTraceFile.compare(self, named: name, in: directory, options: options, record: record)
            if let failure = GoldenTraceFile.failure(comparison) {
                Issue.record(Comment(rawValue: failure), sourceLocation: sourceLocation)
            }
            return comparison
        } catch {
            Issue.record(error, sourceLocation: sourceLocation)
            return nil
        }
    }
}
