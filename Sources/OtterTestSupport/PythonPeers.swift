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
