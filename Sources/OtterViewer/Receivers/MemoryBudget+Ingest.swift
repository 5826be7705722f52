/// The receivers' use of a ``MemoryBudget``: request bytes, each reserved many times over.
extension MemoryBudget {
    /// What a request is reserved for, per byte of its (decompressed) size: decoded, a span takes up to about 20 times
    /// its protobuf bytes (a minimal span of 51 bytes about 1 KB), and a request's spans stay decoded until the store
    /// has committed them. Measured with `scripts/overload.py`: 200 concurrent 2 MB requests of minimal spans peaked
    /// at 7.8 GB when the budget counted wire bytes.
    package static let reservedBytesPerRequestByte = 16
}
