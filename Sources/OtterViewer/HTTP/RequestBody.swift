import Hummingbird
import NIOCore

/// Why a request body was not read.
enum RequestBodyError: Error {
    case tooSlow
}

extension Request {
    /// The longest a request body may take to arrive.
    static let bodyDeadline = Duration.seconds(60)

    /// The body, up to `limit` bytes, if it arrives within ``bodyDeadline``: a body that trickles in (a byte every few
    /// seconds) is cut off instead of holding the connection forever. Throws ``RequestBodyError/tooSlow`` or
    /// Hummingbird's error for a body over the limit.
    func collectBody(upTo limit: Int) async throws -> ByteBuffer {
        let body = self.body
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await body.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(for: Self.bodyDeadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let collected = first else { throw RequestBodyError.tooSlow }
            return collected
        }
    }
}
