import Instrumentation

/// What an `InstrumentationContext` remembers of its current span: the span's context, and for a span this
/// process records, the span's storage (a subclass), so `Tracer.activeSpan(identifiedBy:)` can find it.
class ContextSpan: @unchecked Sendable {
    let spanContext: OtterSpanContext

    init(spanContext: OtterSpanContext) {
        self.spanContext = spanContext
    }
}

enum OtterSpanContextKey: InstrumentationContextKey {
    typealias Value = ContextSpan
    static var nameOverride: String? { "otter.span-context" }
}

extension InstrumentationContext {
    /// The context of the current span (local or extracted from a carrier), if any.
    public var otterSpanContext: OtterSpanContext? {
        get { self[OtterSpanContextKey.self]?.spanContext }
        set { self[OtterSpanContextKey.self] = newValue.map { ContextSpan(spanContext: $0) } }
    }

    var contextSpan: ContextSpan? {
        get { self[OtterSpanContextKey.self] }
        set { self[OtterSpanContextKey.self] = newValue }
    }
}
