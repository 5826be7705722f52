import AsyncHTTPClient
import Foundation
import NIOCore
import OtterTestSupport

/// Headless Chromium driven through chromedriver's W3C WebDriver HTTP API: a real browser that loads the viewer's
/// pages, runs their scripts under the viewer's Content-Security-Policy, and is clicked and typed into. The tests
/// need Debian's `chromium` and `chromium-driver` (`.ci/run` installs both); with `OTTER_REQUIRE_BROWSER=1` a missing
/// browser fails the tests instead of skipping them.
final class Browser: @unchecked Sendable {
    struct WebDriverError: Error, CustomStringConvertible {
        var description: String
    }

    static var chromedriver: String? { OptionalPeers.chromedriver }
    static var chromium: String? { OptionalPeers.chromium }
    static var isRequired: Bool { ProcessInfo.processInfo.environment["OTTER_REQUIRE_BROWSER"] == "1" }
    /// Run the browser tests when the browser is installed, and always when it is required (so that they fail);
    /// otherwise they skip and say so once (`OptionalPeers`).
    static var shouldRun: Bool {
        if OptionalPeers.hasBrowser || isRequired { return true }
        OptionalPeers.noteSkipped()
        return false
    }

    private let driver: Process
    private let base: String
    private var session = ""

    /// Starts chromedriver on a free loopback port and opens a session with a `width` × `height` window.
    init(width: Int = 1400, height: Int = 900, darkMode: Bool = false) async throws {
        guard let chromedriver = Self.chromedriver, let chromium = Self.chromium else {
            throw WebDriverError(description: "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
        }
        let port = try Self.freePort()
        driver = Process()
        driver.executableURL = URL(fileURLWithPath: chromedriver)
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        base = "http://127.0.0.1:\(port)"
        // chromedriver answers /status once it listens.
        try await Self.waitUntil("chromedriver listens on \(port)", timeout: .seconds(20)) {
            (try? await self.request("GET", "/status")) != nil
        }
        let options: [String: Any] = [
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=\(width),\(height)"],
        ]
        let created = try await request(
            "POST", "/session", ["capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": options]]])
        guard let id = (created as? [String: Any])?["sessionId"] as? String else {
            throw WebDriverError(description: "no session: \(String(describing: created))")
        }
        session = id
        if darkMode {
            _ = try await command(
                "POST", "/goog/cdp/execute",
                ["cmd": "Emulation.setEmulatedMedia", "params": ["features": [["name": "prefers-color-scheme", "value": "dark"]]]])
        }
    }

    /// Ends the session (which quits the browser) and kills chromedriver, which ignores SIGTERM. Nothing here blocks
    /// a thread: a `waitUntilExit` on the cooperative pool can starve it.
    func close() async {
        _ = try? await request("DELETE", "/session/\(session)")
        if driver.isRunning { kill(driver.processIdentifier, SIGKILL) }
    }

    /// Runs `body` with a browser and closes it after, whether `body` throws or not.
    static func with<T>(
        width: Int = 1400, height: Int = 900, darkMode: Bool = false, _ body: (Browser) async throws -> T
    ) async throws -> T {
        let browser = try await Browser(width: width, height: height, darkMode: darkMode)
        do {
            let result = try await body(browser)
            await browser.close()
            return result
        } catch {
            await browser.close()
            throw error
        }
    }

    // MARK: Pages and elements

    func open(_ url: String) async throws {
        _ = try await command("POST", "/url", ["url": url])
    }

    /// The result of a script run in the page (WebDriver's scripts are not subject to the page's CSP).
    func evaluate(_ script: String, _ arguments: [Any] = []) async throws -> Any? {
        try await command("POST", "/execute/sync", ["script": script, "args": arguments])
    }

    func count(_ selector: String) async throws -> Int {
        try await evaluate("return document.querySelectorAll(arguments[0]).length", [selector]) as? Int ?? 0
    }

    func text(_ selector: String) async throws -> String {
        try await evaluate("const e = document.querySelector(arguments[0]); return e ? e.textContent : null", [selector]) as? String ?? ""
    }

    func attribute(_ selector: String, _ name: String) async throws -> String? {
        try await evaluate(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null", [selector, name])
            as? String
    }

    func element(_ selector: String) async throws -> String {
        let found = try await command("POST", "/element", ["using": "css selector", "value": selector])
        guard let reference = (found as? [String: Any])?.values.first as? String else {
            throw WebDriverError(description: "no element \(selector)")
        }
        return reference
    }

    /// A real click (the browser's pointer, at the element's centre).
    func click(_ selector: String) async throws {
        _ = try await command("POST", "/element/\(try await element(selector))/click", [:])
    }

    /// Types into an element (for a file input: the file's path).
    func type(_ selector: String, _ text: String) async throws {
        _ = try await command("POST", "/element/\(try await element(selector))/value", ["text": text])
    }

    /// Presses a key on the focused element (`\u{E015}` is ArrowDown, `\u{E007}` Enter, `\u{E00C}` Escape).
    func press(_ key: String) async throws {
        let actions: [[String: Any]] = [["type": "keyDown", "value": key], ["type": "keyUp", "value": key]]
        _ = try await command("POST", "/actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
    }

    func screenshot() async throws -> Data {
        guard let base64 = try await command("GET", "/screenshot") as? String, let data = Data(base64Encoded: base64) else {
            throw WebDriverError(description: "no screenshot")
        }
        return data
    }

    /// Polls `condition` (a page script returning a boolean) until it holds; fails with `description` after 15 s.
    func waitFor(_ description: String, _ condition: String, _ arguments: [Any] = []) async throws {
        try await Self.waitUntil(description, timeout: .seconds(15)) {
            (try? await self.evaluate(condition, arguments)) as? Bool == true
        }
    }

    // MARK: WebDriver over HTTP

    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await request(method, "/session/\(session)\(path)", body)
    }

    func request(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView), options: [.fragmentsAllowed])
        let value = (json as? [String: Any])?["value"]
        guard response.status.code < 400 else {
            throw WebDriverError(description: "\(method) \(path): \(response.status.code) \(String(describing: value).prefix(500))")
        }
        return value is NSNull ? nil : value
    }

    static func waitUntil(_ description: String, timeout: Duration, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw WebDriverError(description: "timed out waiting until \(description)")
    }

    /// A port no one listens on now (bound to 0, then released).
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Foundation.close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw WebDriverError(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
