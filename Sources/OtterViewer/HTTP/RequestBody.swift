import HTTPTypes
import Hummingbird
import NIOCore

/// Why a request body was not read, with the status and message every endpoint answers it with (each in its own
/// format: the Jaeger envelope, OTLP's `Status`, a JSON-RPC error).
enum RequestBodyError: Error, CustomStringConvertible {
    case tooSlow
    case tooLarge(limit: Int)

    var status: HTTPResponse.Status {
        switch self {
        case .tooSlow: .requestTimeout
        case .tooLarge: .contentTooLarge
        }
    }

    var description: String {
        switch self {
        case .tooSlow: "request body not received within \(Request.bodyDeadline)"
        case .tooLarge(let limit): "request body exceeds \(limit) bytes"
        }
    }
}

extension Request {
    /// The longest a request body may take to arrive.
    static let bodyDeadline = Duration.seconds(60)

    /// The body, up to `limit` bytes, if it arrives within ``bodyDeadline``: a body that trickles in (a byte every few
    /// seconds) is cut off instead of holding the connection forever. Throws ``RequestBodyError``.
    func collectBody(upTo limit: Int) async throws(RequestBodyError) -> ByteBuffer {
        let body = self.body
        let collected: ByteBuffer?
        do {
            collected = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await body.collect(upTo: limit) }
                group.addTask {
                    try await Task.sleep(for: Self.bodyDeadline)
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
        } catch {
            // Hummingbird's error for a body over the limit (or a connection that closed mid-body).
            throw .tooLarge(limit: limit)
        }
        guard let collected else { throw .tooSlow }
        return collected
    }
}
