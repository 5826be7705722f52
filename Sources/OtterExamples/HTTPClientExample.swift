import AsyncHTTPClient
import Foundation
import Otter
import Tracing

/// The example's instrumented client (service `http-client`): one GET whose CLIENT span (AsyncHTTPClient's
/// tracing) is the root of the trace and whose `traceparent` header carries the trace to the server.
package enum HTTPClientExample {
    package static let defaultServerURL = "http://127.0.0.1:8082/"

    /// GETs `url`, prints the status, flushes every span, and returns whether the request succeeded.
    package static func run(url: String, otter: OtterService) async -> Bool {
        let httpClient = makeTracedHTTPClient()
        var succeeded = false
        do {
            let response = try await httpClient.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 8 << 20)
            printLine("GET \(url) -> \(response.status.code) (\(body.readableBytes) bytes)")
            succeeded = response.status.code < 400
        } catch {
            FileHandle.standardError.write(Data("http-client: GET \(url) failed: \(error)\n".utf8))
        }
        try? await httpClient.shutdown()
        await otter.shutdown()
        return succeeded
    }
}
