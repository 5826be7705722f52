import Foundation

/// The peers some tests need that a plain clone may lack: opentelemetry-python (`scripts/setup-python-peers.sh`) and
/// headless Chromium with chromedriver (Debian's `chromium` and `chromium-driver`). `bash .ci/run` installs both and
/// makes their absence a failure; elsewhere the tests that need them skip, and the first one to skip prints a single
/// line naming what is missing and how to get it, so that a green run without them is not taken for the full one.
package enum OptionalPeers {
    /// chromedriver's path, if installed.
    package static let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Chromium's path, if installed.
    package static let chromium = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Run the tests that need opentelemetry-python when it is installed, and always when it is required
    /// (`OTTER_REQUIRE_PYTHON_PEERS=1`, so that they fail); otherwise they skip and the notice says so once.
    package static var shouldRunPythonTests: Bool {
        if PythonPeers.interpreter != nil || PythonPeers.areRequired { return true }
        noteSkipped()
        return false
    }

    /// Whether the browser tests can run here.
    package static var hasBrowser: Bool { chromedriver != nil && chromium != nil }

    /// What is missing, in a few words each; empty when every peer is here.
    package static var missing: [String] {
        var missing: [String] = []
        if PythonPeers.interpreter == nil { missing.append("the Python peers (opentelemetry-python; bash scripts/setup-python-peers.sh)") }
        if !hasBrowser { missing.append("Chromium (apt-get install chromium chromium-driver)") }
        return missing
    }

    private static let notice: Void = {
        let line =
            "note: skipping the tests that need \(missing.joined(separator: " and ")); `bash .ci/run` installs them and runs everything\n"
        FileHandle.standardError.write(Data(line.utf8))
    }()

    /// Called by a test that skips for a missing peer: prints the notice once per test run.
    package static func noteSkipped() {
        guard !missing.isEmpty else { return }
        _ = notice
    }
}
