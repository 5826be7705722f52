import Instrumentation

/// What an `InstrumentationContext` remembers of its current span. One reference wide, so the context stores it
/// inline, and reading it back is a type check rather than a class-hierarchy walk.
enum CurrentSpan: Sendable {
    /// A span this process records: `Tracer.activeSpan(identifiedBy:)` finds it, and child spans name it.
    case recording(RecordingSpanStorage)
    /// A span context only: extracted from a carrier, or of a span that is not recorded.
    case context(SpanContextBox)

    var spanContext: OtterSpanContext {
        switch self {
        case .recording(let storage): storage.spanContext
        case .context(let box): box.spanContext
        }
    }
}

/// A span context on the heap, so that ``CurrentSpan`` stays one reference wide.
final class SpanContextBox: Sendable {
    let spanContext: OtterSpanContext

    init(_ spanContext: OtterSpanContext) {
        self.spanContext = spanContext
    }
}

enum OtterSpanContextKey: InstrumentationContextKey {
    typealias Value = CurrentSpan
    static var nameOverride: String? { "otter.span-context" }
}

extension InstrumentationContext {
    /// The context of the current span (local or extracted from a carrier), if any.
    public var otterSpanContext: OtterSpanContext? {
        get { currentSpan?.spanContext }
        set { currentSpan = newValue.map { .context(SpanContextBox($0)) } }
    }

    var currentSpan: CurrentSpan? {
        // An empty context (every root span's) skips the generic subscript and its metadata lookups.
        get { isEmpty ? nil : self[OtterSpanContextKey.self] }
        set { self[OtterSpanContextKey.self] = newValue }
    }
}
