/// The library that produced a span (OTLP `InstrumentationScope`).
public struct InstrumentationScope: Sendable, Hashable {
    public var name: String
    public var version: String?

    public init(name: String, version: String? = nil) {
        self.name = name
        self.version = version
    }

    /// The scope Otter's tracer reports when none is given.
    public static let otter = InstrumentationScope(name: "otter", version: Otter.version)
}
