import Foundation

/// Finds the Python interpreter with opentelemetry-python installed (`scripts/setup-python-peers.sh` makes
/// `.venv`), for interoperability tests.
package enum PythonPeers {
    /// The package's root folder.
    package static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `$OTTER_PYTHON`, else `.venv/bin/python` under the package root, if executable.
    package static var interpreter: URL? {
        let candidates: [String?] = [
            ProcessInfo.processInfo.environment["OTTER_PYTHON"], packageRoot.appendingPathComponent(".venv/bin/python").path,
        ]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
            .map { URL(fileURLWithPath: $0) }
    }

    /// True in CI (`OTTER_REQUIRE_PYTHON_PEERS=1`): a missing interpreter must fail the tests, not skip them.
    package static var areRequired: Bool { ProcessInfo.processInfo.environment["OTTER_REQUIRE_PYTHON_PEERS"] == "1" }
}

extension PythonPeers {
    /// What a Python script printed and how it ended.
    package struct Run: Sendable {
        package var status: Int32
        package var output: Data
        package var errors: String
    }

    /// Runs `script` (a path under the package root) with the Python peers' interpreter, `input` on its standard input,
    /// and waits for it off the cooperative pool.
    package static func run(script: String, arguments: [String] = [], input: Data? = nil) async throws -> Run {
        guard let interpreter else { throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no Python peers"]) }
        let process = Process()
        process.executableURL = interpreter
        process.arguments = [packageRoot.appendingPathComponent(script).path] + arguments
        let standardInput = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = standardInput
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        if let input { standardInput.fileHandleForWriting.write(input) }
        try standardInput.fileHandleForWriting.close()
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                continuation.resume(returning: Run(status: process.terminationStatus, output: data, errors: errorText))
            }
        }
    }
}
