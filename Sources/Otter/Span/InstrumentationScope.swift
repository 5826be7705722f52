/// The library that produced a span (OTLP `InstrumentationScope`).
public struct InstrumentationScope: Sendable, Hashable {
    /// The instrumenting library's name, such as a module or package name.
    public var name: String
    /// The instrumenting library's version; nil when unknown.
    public var version: String?

    /// Makes a scope from a library's name and, optionally, its version.
    public init(name: String, version: String? = nil) {
        self.name = name
        self.version = version
    }

    /// The scope Otter's tracer reports when none is given.
    public static let otter = InstrumentationScope(name: "otter", version: Otter.version)
}
